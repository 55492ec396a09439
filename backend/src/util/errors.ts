/**
 * MLflow's error codes and the HTTP status each maps to (mlflow/exceptions.py ERROR_CODE_TO_HTTP_STATUS).
 * Every error the backend raises on purpose is an ApiError; anything else is a 500 with a generic message.
 */
export const ERROR_STATUS = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  BAD_REQUEST: 400,
  INVALID_STATE: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  ENDPOINT_NOT_FOUND: 404,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  RESOURCE_CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  REQUEST_LIMIT_EXCEEDED: 429,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Machine-readable detail sent beside error_code and message (e.g. a promotion gate's failed conditions). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export const invalid = (message: string): ApiError => new ApiError('INVALID_PARAMETER_VALUE', message);
export const notFound = (message: string): ApiError => new ApiError('RESOURCE_DOES_NOT_EXIST', message);
export const exists = (message: string): ApiError => new ApiError('RESOURCE_ALREADY_EXISTS', message);
