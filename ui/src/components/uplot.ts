/**
 * uPlot and its stylesheet, loaded on demand (import('./uplot.ts')) so the charting code stays out
 * of the first load of the tenants dashboard.
 */
import 'uplot/dist/uPlot.min.css';

export { default } from 'uplot';
