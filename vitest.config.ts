import { defineConfig } from 'vitest/config';

const env = {
  // The Google clients otherwise probe the GCE metadata server before every first call.
  METADATA_SERVER_DETECTION: 'none',
  GOOGLE_CLOUD_PROJECT: 'unit-test',
};

export default defineConfig({
  test: {
    env,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          env,
          // Simulation tests run thousands of seeded rollouts; CI machines are shared and noisy.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: [
            'test/contract/**/*.test.ts',
            'test/e2e/**/*.test.ts',
            'test/infra/**/*.test.ts',
            'test/cli/**/*.test.ts',
          ],
          globalSetup: ['test/support/emulators.global.ts'],
          env,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
