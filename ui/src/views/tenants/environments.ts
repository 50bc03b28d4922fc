/** The guide's three environments, in its order. */
export const ENVIRONMENTS = ['prod', 'staging', 'dev'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const ENVIRONMENT_LABELS: Record<Environment, string> = {
  prod: 'Production (prod)',
  staging: 'Staging (staging)',
  dev: 'Development (dev)',
};
