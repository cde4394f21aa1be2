import {
  makeGenericClientConstructor,
  credentials,
  type Client,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { SPREAD_OVER_INSTANCES } from './grpc-client.js';

const HealthClient = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, 'Health');

export type ServingState = 'SERVING' | 'NOT_SERVING' | 'UNKNOWN' | 'UNREACHABLE';

/** Asks a service's standard grpc.health.v1 endpoint how it is doing. */
export function createHealthChecker(address: string) {
  const client = new HealthClient(
    address,
    credentials.createInsecure(),
    SPREAD_OVER_INSTANCES,
  ) as unknown as Client & {
    check(
      req: { service: string },
      opts: object,
      cb: (err: Error | null, res?: { status: string }) => void,
    ): void;
  };
  return {
    check(service = '', timeoutMs = 2000): Promise<ServingState> {
      return new Promise((resolve) =>
        client.check({ service }, { deadline: Date.now() + timeoutMs }, (err, res) =>
          resolve(err ? 'UNREACHABLE' : ((res?.status as ServingState) ?? 'UNKNOWN')),
        ),
      );
    },
    close: () => client.close(),
  };
}
