import type { ReportView } from '../../../backend/src/api/v1/contract-report';

/** The Report webview's messages: the success metrics over a window the user picks (kept in the webview's state). */
export const REPORT_WINDOWS = ['7d', '30d', '90d', '365d'] as const;
export type ReportWindow = (typeof REPORT_WINDOWS)[number];

export type ReportToWebview = { type: 'report/data'; report: ReportView; since: ReportWindow } | { type: 'report/error'; message: string };
export type ReportToHost = { type: 'report/ready' } | { type: 'report/refresh' } | { type: 'report/since'; since: ReportWindow };
