import {
  credentials,
  InterceptingCall,
  Metadata,
  status,
  type Interceptor,
  type CallOptions,
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { fromServiceError } from './errors.js';
import { signOutgoing } from './identity.js';
import type { InternalTokens } from './internal-token.js';

type GrpcClientCtor<C> = (new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
  options?: object,
) => C) & { serviceName?: string };

/**
 * A client whose every call carries an internal token for the target service (its audience is the
 * generated client's service name), minted from the caller headers of callerMetadata, if any.
 */
export function createGrpcClient<C extends Client>(
  Ctor: GrpcClientCtor<C>,
  address: string,
  tokens: InternalTokens,
): C {
  const audience = Ctor.serviceName;
  if (!audience) throw new Error('createGrpcClient needs a generated client (it names the target service)');
  return new Ctor(address, credentials.createInsecure(), {
    ...SPREAD_OVER_INSTANCES,
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    'grpc.keepalive_time_ms': 30_000,
    // A restarted service is called again within a second of its return. gRPC's own pauses between
    // reconnection attempts grow to two minutes, so an instance whose dependency was down for ten
    // seconds kept failing for several more after the others had recovered.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 1_000,
    // Nothing reads channelz; its per-call bookkeeping cost ~8 % of a loopback call.
    'grpc.enable_channelz': 0,
    interceptors: [signingInterceptor(tokens, audience)],
  });
}

/**
 * An address may stand for several instances: a DNS name with one record per replica (compose
 * scale, a platform's private network) or a list (`ipv4:127.0.0.1:50052,127.0.0.1:50062`). gRPC's
 * default policy sticks to the first; round robin spreads calls over every instance that is up and
 * leaves a dead one out as soon as its connection drops, so its callers move to the others.
 */
export const SPREAD_OVER_INSTANCES = {
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
};

function signingInterceptor(tokens: InternalTokens, audience: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        // A signing failure leaves the call without a token: the server then refuses it by name.
        signOutgoing(metadata, tokens, audience).then(
          (signed) => next(signed, listener),
          () => next(metadata, listener),
        );
      },
    });
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/**
 * Promise form of a ts-proto unary method. Failures come back as the DomainError the server threw,
 * so the caller keeps the code and the field at fault.
 */
export function callUnary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  metadata: Metadata = new Metadata(),
  timeoutMs = 30_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(request, metadata, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(fromServiceError(err)) : resolve(res),
    );
  });
}

/** Async-iterates a server stream, mapping a failure to DomainError. */
export async function* readStream<Res>(stream: ClientReadableStream<Res>): AsyncGenerator<Res> {
  try {
    for await (const message of stream) yield message as Res;
  } catch (err) {
    throw fromServiceError(err);
  }
}

/** Waits until the channel connects; a channel still down at the deadline fails as UNAVAILABLE. */
export function waitForReady(client: Client, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + timeoutMs, (err) =>
      err
        ? reject(
            Object.assign(new Error(`not connected after ${timeoutMs} ms`), { code: status.UNAVAILABLE }),
          )
        : resolve(),
    ),
  );
}
