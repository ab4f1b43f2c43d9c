import { HostIdentity } from '@app/contracts';
import { AgentExitCodes, AgentFatalError } from '../agent-exit-codes';
import { AgentOptions, BaseAgent } from '../base-agent';
import { Registration } from './lambda-extension';
import { LambdaExtensionSession } from './lambda-extension-session';

/**
 * Runs as a Lambda extension, one per execution environment. The host is that environment (its
 * extension registration), named after the function: Lambda keeps no state across environments, so
 * each cold start enrolls a new agent (the token must allow that many uses) that goes offline when
 * Lambda retires the environment. A failed enrollment never stops the extension: it keeps answering
 * the Extensions API so the function itself is not broken by its monitoring.
 */
export class LambdaAgent extends BaseAgent {
  private registration?: Registration;

  constructor(
    options: AgentOptions,
    private readonly session: LambdaExtensionSession | undefined,
    private readonly region: string | undefined,
  ) {
    super(options);
  }

  override async start(): Promise<void> {
    if (!this.session)
      throw new AgentFatalError(
        AgentExitCodes.badConfig,
        "RCA_RUNTIME_API is not set: the lambda agent runs only as a Lambda extension, whose launcher (the layer's extensions/rca-agent) sets it from AWS_LAMBDA_RUNTIME_API",
      );
    const session = this.session;
    this.registration = await session.open();
    void session.run().then(
      () => this.stop(),
      (error: unknown) => {
        this.log.error({ err: error }, 'the Extensions API failed; stopping the extension');
        return this.stop();
      },
    );
    void this.exited.then(() => session.close());
    try {
      await super.start();
    } catch (error) {
      this.log.error(
        { err: error },
        'the agent could not start; the extension keeps running so the function is not affected',
      );
    }
  }

  protected override async describeHost(fallbackId: string | undefined): Promise<HostIdentity> {
    const base = await super.describeHost(fallbackId);
    const registration = this.registration;
    if (!registration) return base;
    const scope = [registration.accountId, this.region].filter(Boolean).join('-');
    return {
      ...base,
      hostname: registration.functionName,
      hostId:
        `lambda-${scope ? `${scope}-` : ''}${registration.functionName}-${registration.extensionId}`.toLowerCase(),
    };
  }
}
