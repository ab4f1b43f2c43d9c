import { Logger } from 'pino';
import {
  ExtensionEvent,
  ExtensionsApi,
  Registration,
  SANDBOX_HOST,
  TelemetryListener,
} from './lambda-extension';
import { LambdaTelemetryAggregator } from './lambda-telemetry';

export interface ExtensionSessionOptions {
  /** host:port of the Runtime API (AWS_LAMBDA_RUNTIME_API). */
  runtimeApi: string;
  /** Where the Telemetry API listener binds; tests use 127.0.0.1 and port 0. */
  listenHost?: string;
  port: number;
  /** The host in the destination URI given to Lambda; tests use 127.0.0.1. */
  destinationHost?: string;
}

/**
 * One execution environment's life as an extension: register, listen, subscribe to platform telemetry
 * (feeding the aggregator), then wait for events until SHUTDOWN. Registration and subscription happen
 * in the init phase, before the agent enrolls, as Lambda requires of an extension.
 */
export class LambdaExtensionSession {
  private readonly api: ExtensionsApi;
  private readonly listener: TelemetryListener;

  constructor(
    private readonly options: ExtensionSessionOptions,
    private readonly telemetry: LambdaTelemetryAggregator,
    private readonly log: Logger,
  ) {
    this.api = new ExtensionsApi(options.runtimeApi);
    this.listener = new TelemetryListener((events) => telemetry.record(events));
  }

  async open(): Promise<Registration> {
    const registration = await this.api.register();
    this.telemetry.identify(registration.functionName, registration.functionVersion);
    const port = await this.listener.listen(this.options.listenHost ?? '0.0.0.0', this.options.port);
    await this.api.subscribeTelemetry(`http://${this.options.destinationHost ?? SANDBOX_HOST}:${port}`);
    this.log.info(
      { function: registration.functionName, version: registration.functionVersion, port },
      'registered as a Lambda extension; subscribed to platform telemetry',
    );
    return registration;
  }

  /** Answers events until SHUTDOWN, which it returns; `onInvoke` runs before the next wait. */
  async run(onInvoke: (event: ExtensionEvent) => Promise<void> = async () => {}): Promise<ExtensionEvent> {
    for (;;) {
      const event = await this.api.next();
      if (event.eventType === 'SHUTDOWN') {
        this.log.info({ reason: event.shutdownReason }, 'Lambda is shutting the environment down');
        return event;
      }
      await onInvoke(event);
    }
  }

  close(): Promise<void> {
    return this.listener.close();
  }
}
