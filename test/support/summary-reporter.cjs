// Prints one plain closing line ("jest: N passed, N failed, N skipped") for CI logs, preceded by each skipped
// test's full name: a suite that cannot run here (the browser tests without Chromium) says why in its title.
'use strict';
const { relative } = require('node:path');

const SKIPPED = new Set(['pending', 'skipped', 'disabled']);
/** Beyond this many, the rest are counted, not listed (a describe.skip or a -t filter can skip dozens). */
const MAX_LISTED = 10;

class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
    // With -t, every test the filter leaves out counts as skipped: listing them would say nothing.
    this.filtered = Boolean(globalConfig.testNamePattern);
  }

  onRunComplete(_contexts, results) {
    const skipped = [];
    for (const file of results.testResults) {
      for (const test of file.testResults) {
        if (SKIPPED.has(test.status)) skipped.push(`  skipped: ${test.fullName} (${relative(this.rootDir, file.testFilePath)})`);
      }
    }
    const listed = this.filtered ? [] : skipped.slice(0, MAX_LISTED);
    const more = skipped.length - listed.length;
    if (listed.length > 0) process.stdout.write(`\n${listed.join('\n')}${more > 0 ? `\n  … and ${more} more skipped` : ''}\n`);
    const line = `jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`;
    process.stdout.write(`\n${line}\n`);
  }
}

module.exports = SummaryReporter;
