import type { Cell } from '../../config.ts';
import { ValidationError } from '../../lib/errors.ts';

/** The cells of a region, or a validation error listing the regions that exist. */
export function cellsOfRegion(cells: Cell[], region: string): Cell[] {
  const found = cells.filter((c) => c.region === region);
  if (found.length === 0) {
    const known = [...new Set(cells.map((c) => c.region))].join(', ');
    throw new ValidationError(
      'region',
      `region: unknown region ${JSON.stringify(region)}; known regions: ${known}`,
    );
  }
  return found;
}

/** Least-loaded cell; ties go to the first one configured, so placement is deterministic. */
export function pickCell(candidates: Cell[], liveTenantsPerCell: Map<string, number>): Cell {
  let best = candidates[0]!;
  for (const cell of candidates) {
    if ((liveTenantsPerCell.get(cell.cell) ?? 0) < (liveTenantsPerCell.get(best.cell) ?? 0))
      best = cell;
  }
  return best;
}

export function cellByName(cells: Cell[], name: string): Cell | undefined {
  return cells.find((c) => c.cell === name);
}

/** Ingestion hosts of a cell; a cell no longer configured keeps the naming convention. */
export function hostsOf(
  cells: Cell[],
  name: string,
): Pick<Cell, 'metricsHost' | 'logsHost' | 'tracesHost'> {
  return (
    cellByName(cells, name) ?? {
      metricsHost: `${name}.m.xscalerlabs.com`,
      logsHost: `${name}.l.xscalerlabs.com`,
      tracesHost: `${name}.t.xscalerlabs.com`,
    }
  );
}

/** Each configured region once, the default first, then in configuration order. */
export function regionsOf(cells: Cell[], defaultRegion: string) {
  const names = [...new Set([defaultRegion, ...cells.map((c) => c.region)])].filter((name) =>
    cells.some((c) => c.region === name),
  );
  return names.map((name) => ({ name, isDefault: name === defaultRegion }));
}
