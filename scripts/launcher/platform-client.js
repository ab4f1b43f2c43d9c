'use strict';
/**
 * What the launcher asks the running platform: is the gateway healthy, are the services
 * subscribed, and (with the bootstrap key) an enrollment token for the local agent command.
 */
const { connect, StringCodec } = require('nats');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value; `abort()` true ends the wait early (a child died). */
async function poll(what, check, { deadline, abort, intervalMs = 200 }) {
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (abort()) throw new Error(`gave up waiting for ${what}: the platform is stopping`);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      // A definite answer (a 4xx) ends the wait; anything else may be the platform warming up.
      if (error && error.final) throw error;
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out waiting for ${what} (${last})`);
}

async function waitForHealth(baseUrl, options) {
  return poll(
    `${baseUrl}/health`,
    async () => {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return true;
      throw new Error(`HTTP ${response.status}`);
    },
    options,
  );
}

/**
 * Waits until every `{ subject, service }` has a subscriber. A request to a subject nobody listens on fails
 * at once with "no responders"; any reply (even an error about the empty payload) means the
 * service is up. The payload is deliberately invalid so no handler changes anything.
 */
async function waitForResponders(natsUrl, auth, subjects, options) {
  const nc = await connect({ servers: natsUrl.split(','), timeout: 2000, ...auth });
  const codec = StringCodec();
  try {
    for (const { subject, service } of subjects) {
      await poll(
        `${service} to answer on ${subject}`,
        async () => {
          const packet = { id: `npm-start-probe-${Date.now()}`, pattern: subject, data: { probe: true } };
          try {
            await nc.request(subject, codec.encode(JSON.stringify(packet)), { timeout: 2000 });
          } catch (error) {
            if (error && error.code === '503') throw new Error('no responders');
            // A timeout still proves a subscriber exists; it was just slow to answer nonsense.
          }
          return true;
        },
        options,
      );
    }
  } finally {
    await nc.close();
  }
}

/**
 * POST /api/v1/agent/provision for a Server agent. Retries while the chain behind the
 * gateway is still warming up (5xx); a 4xx is a real answer and is reported.
 */
async function provisionServerAgent({ baseUrl, apiKey, environment }, options) {
  return poll(
    'an enrollment token from POST /api/v1/agent/provision',
    async () => {
      const response = await fetch(`${baseUrl}/api/v1/agent/provision`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ agent_type: 'server', environment_name: environment }),
        signal: AbortSignal.timeout(10_000),
      });
      const text = await response.text();
      if (response.status >= 500) throw new Error(`HTTP ${response.status}: ${text.slice(0, 200)}`);
      if (!response.ok) {
        const error = new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
        error.final = true;
        throw error;
      }
      const body = JSON.parse(text);
      const token = body.enrollment_token ?? body.enrollmentToken;
      if (typeof token !== 'string')
        throw new Error(`no enrollment_token in the answer: ${text.slice(0, 200)}`);
      return { enrollmentToken: token, body };
    },
    options,
  );
}

/** POSIX shell quoting: plain words stay plain, anything else goes in single quotes. */
function shellQuote(value) {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The line a developer pastes in a second terminal (from the repository) to run a Server agent. */
function localAgentCommand({ token, natsUrl, platformUrl, caPin }) {
  return [
    `RCA_TOKEN=${shellQuote(token)}`,
    `RCA_NATS_URL=${shellQuote(natsUrl)}`,
    `RCA_PLATFORM_URL=${shellQuote(platformUrl)}`,
    ...(caPin ? [`RCA_CA_PIN=${shellQuote(caPin)}`] : []),
    'RCA_AGENT_TYPE=server',
    'npm run agent',
  ].join(' ');
}

module.exports = { waitForHealth, waitForResponders, provisionServerAgent, localAgentCommand, shellQuote };
