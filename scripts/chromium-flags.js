'use strict';
/**
 * How every headless Chromium here runs (the dashboard screenshots and the dashboard tests): no
 * sandbox or GPU in a container, and nothing in the background that could slow a page or reach out.
 */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

module.exports = { CHROMIUM_FLAGS };
