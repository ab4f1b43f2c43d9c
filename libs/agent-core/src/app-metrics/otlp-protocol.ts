import type { IConversionOptions } from 'protobufjs';

/**
 * OTLP/HTTP metrics on the wire, by the OpenTelemetry project's own protobufjs code: the root
 * @opentelemetry/otlp-transformer generates from the official .proto files (its 0.214 line, the last
 * whose generated code decodes requests and runs on protobufjs 7 like the rest of the repo). It is
 * required on first use only: the agent bundle keeps it in a chunk loaded when the OTLP intake is on.
 */
/** The part of the generated root used here (its .d.ts types it only as a protobufjs Root). */
interface GeneratedMessage {
  decode(data: Uint8Array): object;
  encode(message: object): { finish(): Uint8Array };
  fromObject(plain: object): object;
  toObject(message: object, options?: IConversionOptions): object;
}
interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        metrics: {
          v1: Record<
            'ExportMetricsServiceRequest' | 'ExportMetricsServiceResponse' | 'ExportMetricsPartialSuccess',
            GeneratedMessage
          >;
        };
      };
    };
  };
}

let root: GeneratedRoot | undefined;

/** Loads the protocol now, so an agent built without it fails at start rather than at the first request. */
export function loadOtlpProtocol(): void {
  metricsService();
}

function metricsService(): GeneratedRoot['opentelemetry']['proto']['collector']['metrics']['v1'] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberate lazy load, see above
  root ??= require('@opentelemetry/otlp-transformer/build/src/generated/root') as GeneratedRoot;
  return root.opentelemetry.proto.collector.metrics.v1;
}

/** An attribute value as OTLP carries it (`AnyValue`), with 64-bit integers as numbers. */
export interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number;
  doubleValue?: number;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
  bytesValue?: string;
}

export interface OtlpKeyValue {
  key?: string;
  value?: OtlpAnyValue;
}

interface OtlpPoint {
  attributes?: OtlpKeyValue[];
  /** Bit 0: no recorded value (a series the SDK marks stale). */
  flags?: number;
}

export interface OtlpNumberPoint extends OtlpPoint {
  asDouble?: number;
  asInt?: number;
}

export interface OtlpHistogramPoint extends OtlpPoint {
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface OtlpSummaryPoint extends OtlpPoint {
  count?: number;
  sum?: number;
  quantileValues?: { quantile?: number; value?: number }[];
}

/** `AggregationTemporality`: 1 delta, 2 cumulative (0 unspecified). */
export const OtlpTemporality = { delta: 1, cumulative: 2 } as const;

export interface OtlpMetric {
  name?: string;
  unit?: string;
  gauge?: { dataPoints?: OtlpNumberPoint[] };
  sum?: { dataPoints?: OtlpNumberPoint[]; aggregationTemporality?: number; isMonotonic?: boolean };
  histogram?: { dataPoints?: OtlpHistogramPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: unknown[]; aggregationTemporality?: number };
  summary?: { dataPoints?: OtlpSummaryPoint[] };
}

/** `ExportMetricsServiceRequest` as plain objects: absent fields undefined, 64-bit integers as numbers. */
export interface OtlpMetricsRequest {
  resourceMetrics?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeMetrics?: {
      scope?: { name?: string; version?: string; attributes?: OtlpKeyValue[] };
      metrics?: OtlpMetric[];
    }[];
  }[];
}

export type OtlpEncoding = 'protobuf' | 'json';

/** A body that is not an ExportMetricsServiceRequest; the message says where it broke. */
export class OtlpDecodeError extends Error {}

const PLAIN = { longs: Number, enums: Number, bytes: String, defaults: false, arrays: true } as const;

/**
 * The request in either encoding OTLP/HTTP allows. JSON is read as the spec's JSON mapping (lowerCamelCase
 * fields, 64-bit integers as strings or numbers, enums as integers or names; unknown fields ignored).
 */
export function decodeMetricsRequest(body: Buffer, encoding: OtlpEncoding): OtlpMetricsRequest {
  const Request = metricsService().ExportMetricsServiceRequest;
  try {
    if (encoding === 'protobuf') return Request.toObject(Request.decode(body), PLAIN) as OtlpMetricsRequest;
    const json: unknown = JSON.parse(body.toString('utf8'));
    if (json === null || typeof json !== 'object' || Array.isArray(json))
      throw new Error('the body must be a JSON object');
    return Request.toObject(Request.fromObject(json), PLAIN) as OtlpMetricsRequest;
  } catch (error) {
    throw new OtlpDecodeError(`not an OTLP ExportMetricsServiceRequest: ${(error as Error).message}`);
  }
}

/** `ExportMetricsServiceResponse`, with `partialSuccess` when points were rejected. */
export function encodeMetricsResponse(
  encoding: OtlpEncoding,
  rejected?: { rejectedDataPoints: number; errorMessage: string },
): Buffer {
  const Response = metricsService().ExportMetricsServiceResponse;
  const message = Response.fromObject(rejected ? { partialSuccess: rejected } : {});
  if (encoding === 'protobuf') return Buffer.from(Response.encode(message).finish());
  return Buffer.from(JSON.stringify(Response.toObject(message, { longs: Number })));
}

/**
 * The body of a 4xx answer: a `google.rpc.Status` { int32 code = 1; string message = 2; }, which the
 * generated OTLP root does not hold. ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string
 * error_message = 2; } has the same wire shape (a varint field 1, a string field 2), so it encodes one.
 */
export function encodeStatus(encoding: OtlpEncoding, code: number, message: string): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  const SameShape = metricsService().ExportMetricsPartialSuccess;
  return Buffer.from(
    SameShape.encode(SameShape.fromObject({ rejectedDataPoints: code, errorMessage: message })).finish(),
  );
}
