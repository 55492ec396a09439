/** The statistics engine's public surface: pure functions and incremental detectors, no I/O. */
export * from './abreport';
export * from './abtest';
export * from './adwin';
export * from './bucketed';
export * from './chisquare';
export * from './dataset';
export * from './distances';
export * from './drift';
export * from './ks';
export { kstwoSf } from './kolmogorov';
export * from './nullscale';
export * from './pagehinkley';
export * from './profile';
export * from './quantiles';
export * from './select';
export * from './sequential';
export { chi2Sf, normalQuantile, normalSf, tQuantile, tSf } from './special';
export * from './table';
