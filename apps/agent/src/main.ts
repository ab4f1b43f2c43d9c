#!/usr/bin/env node
import 'reflect-metadata';

// The agent runtime lands with libs/agent-core (issue 3); until then the binary only explains itself.
process.stdout.write('rca-agent: usage: rca-agent [--help]\n');
