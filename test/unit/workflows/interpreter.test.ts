import { describe, expect, it } from 'vitest';
import {
  ExecutionCancelled,
  StepLimitExceeded,
  WorkflowLoadError,
  WorkflowRaise,
} from '../../../local/workflows/errors.ts';
import {
  type LogEntry,
  type RunOptions,
  runWorkflow,
  type SleepRecord,
} from '../../../local/workflows/interpreter.ts';
import { loadWorkflowFile, loadWorkflowText } from '../../../local/workflows/load.ts';
import { isMap, type Value } from '../../../local/workflows/values.ts';

/** Runs YAML with sleeps scaled down 10,000× and returns the result plus what was recorded. */
async function run(yaml: string, argument: Value = null, options: RunOptions = {}) {
  const sleeps: SleepRecord[] = [];
  const logs: LogEntry[] = [];
  const result = await runWorkflow(loadWorkflowText(yaml, 'test.yaml'), argument, {
    timeScale: 10_000,
    onSleep: (s) => sleeps.push(s),
    onLog: (l) => logs.push(l),
    ...options,
  });
  return { result, sleeps, logs };
}

async function failure(yaml: string, argument: Value = null): Promise<WorkflowRaise> {
  try {
    await run(yaml, argument);
  } catch (error) {
    if (error instanceof WorkflowRaise) return error;
    throw error;
  }
  throw new Error('the workflow did not fail');
}

function loadError(yaml: string): string {
  try {
    loadWorkflowText(yaml, 'test.yaml');
  } catch (error) {
    if (error instanceof WorkflowLoadError) return error.message;
    throw error;
  }
  throw new Error('the workflow loaded');
}

describe('local Workflows interpreter', () => {
  it('binds the argument, assigns into variables, maps and lists, and returns', async () => {
    const { result } = await run(
      `
main:
  params: [args]
  steps:
    - init:
        assign:
          - x: \${args.a + 1}
          - m: {k: 1, inner: {z: 0}}
          - l: [1, 2, 3]
          - m.k: \${x * 10}
          - m["new"]: "n"
          - m.inner.z: 5
          - l[1]: two
          - copied: \${m}
          - copied.k: -1
    - done:
        return: \${[x, m, l, copied.k]}
`,
      { a: 41 },
    );
    expect(result).toEqual([42, { k: 420, inner: { z: 5 }, new: 'n' }, [1, 'two', 3], -1]);
  });

  it('loops with switch and next, and ends with next: end', async () => {
    const { result } = await run(`
main:
  steps:
    - init:
        assign: [{i: 0}, {seen: []}]
    - loop:
        switch:
          - condition: \${i >= 3}
            next: finish
    - body:
        assign:
          - seen: \${list.concat(seen, i)}
          - i: \${i + 1}
        next: loop
    - finish:
        return: \${seen}
`);
    expect(result).toEqual([0, 1, 2]);
    const ended = await run(`
main:
  steps:
    - stop:
        next: end
    - never:
        raise: unreachable
`);
    expect(ended.result).toBeNull();
  });

  it('runs the steps of a matched condition, then the switch next; falls through when nothing matches', async () => {
    const { result } = await run(`
main:
  steps:
    - init:
        assign: [{trace: ""}]
    - pick:
        switch:
          - condition: false
            next: wrong
          - condition: \${trace == ""}
            steps:
              - inner:
                  assign: [{trace: '\${trace + "inner,"}'}]
        next: after
    - wrong:
        return: wrong
    - after:
        switch:
          - condition: \${trace == "nothing"}
            return: no
    - last:
        return: \${trace + "after"}
`);
    expect(result).toBe('inner,after');
  });

  it('jumps from nested steps to a step of an enclosing list', async () => {
    const { result } = await run(`
main:
  steps:
    - outer:
        steps:
          - inner:
              next: target
          - skipped:
              raise: skipped
    - alsoSkipped:
        raise: skipped
    - target:
        return: reached
`);
    expect(result).toBe('reached');
  });

  it('fails with the raised value and the step that raised it', async () => {
    const raised = await failure(`
main:
  steps:
    - check:
        raise:
          code: 42
          message: broken
`);
    expect(raised.value).toEqual({ code: 42, message: 'broken' });
    expect(raised.step).toBe('check');
    const keyError = await failure(
      `
main:
  params: [args]
  steps:
    - read:
        return: \${args.missing}
`,
      { present: 1 },
    );
    expect(keyError.value).toMatchObject({ tags: ['KeyError'] });
    expect(keyError.step).toBe('read');
  });

  it('catches errors with except and binds them with as', async () => {
    const { result } = await run(`
main:
  steps:
    - risky:
        try:
          steps:
            - boom:
                return: \${1 / 0}
        except:
          as: e
          steps:
            - handled:
                return: \${"caught " + e.tags[0]}
`);
    expect(result).toBe('caught ZeroDivisionError');
  });

  it('keeps variables first created in an except block local to it', async () => {
    const { result } = await run(`
main:
  steps:
    - init:
        assign: [{shared: before}]
    - risky:
        try:
          raise: oops
        except:
          as: e
          steps:
            - inside:
                assign: [{shared: '\${"after " + e}'}, {local: 1}]
    - done:
        return: \${shared}
`);
    expect(result).toBe('after oops');
    const leaked = await failure(`
main:
  steps:
    - risky:
        try:
          raise: oops
        except:
          as: e
          steps:
            - inside:
                assign: [{local: 1}]
    - done:
        return: \${local}
`);
    expect(leaked.value).toMatchObject({ tags: ['KeyError'], message: 'variable not defined: local' });
  });

  it('retries with http.default_retry: backoff 1 s × 1.25 until the step succeeds', async () => {
    const { result, sleeps } = await run(`
main:
  steps:
    - init:
        assign: [{attempts: 0}]
    - flaky:
        try:
          steps:
            - count:
                assign: [{attempts: '\${attempts + 1}'}]
            - maybeFail:
                switch:
                  - condition: \${attempts < 3}
                    raise: {code: 503, message: busy}
        retry: \${http.default_retry}
    - done:
        return: \${attempts}
`);
    expect(result).toBe(3);
    expect(sleeps.map((s) => [s.kind, s.step, s.seconds])).toEqual([
      ['retry', 'flaky', 1],
      ['retry', 'flaky', 1.25],
    ]);
  });

  it('gives up after max_retries and hands the last error to except', async () => {
    const { result, sleeps } = await run(`
main:
  steps:
    - init:
        assign: [{attempts: 0}]
    - alwaysBusy:
        try:
          steps:
            - count:
                assign: [{attempts: '\${attempts + 1}'}]
            - fail:
                raise: {code: 503}
        retry: \${http.default_retry}
        except:
          as: e
          steps:
            - report:
                return: \${[attempts, e.code]}
`);
    expect(result).toEqual([6, 503]);
    expect(sleeps.map((s) => s.seconds)).toEqual([1, 1.25, 1.5625, 1.953125, 2.44140625]);
  });

  it('does not retry what the predicate rejects, and honours a custom policy', async () => {
    const notRetried = await run(`
main:
  steps:
    - refused:
        try:
          raise: {code: 400}
        retry: \${http.default_retry}
        except:
          as: e
          steps:
            - out:
                return: \${e.code}
`);
    expect(notRetried.result).toBe(400);
    expect(notRetried.sleeps).toEqual([]);

    const custom = await run(`
main:
  steps:
    - init:
        assign: [{attempts: 0}]
    - flaky:
        try:
          steps:
            - count:
                assign: [{attempts: '\${attempts + 1}'}]
            - fail:
                raise: {tags: [ConnectionError]}
        retry:
          predicate: \${http.default_retry_predicate}
          max_retries: 2
          backoff: {initial_delay: 2, max_delay: 3, multiplier: 2}
        except:
          steps:
            - out:
                return: \${attempts}
`);
    expect(custom.result).toBe(3);
    expect(custom.sleeps.map((s) => s.seconds)).toEqual([2, 3]);
  });

  it('divides sys.sleep by the time scale and records sys.log calls', async () => {
    const { sleeps, logs } = await run(
      `
main:
  steps:
    - nap:
        call: sys.sleep
        args:
          seconds: 60
    - note:
        call: sys.log
        args:
          severity: INFO
          json: {phase: '\${"Progressing"}', waitSeconds: 60}
    - text:
        call: sys.log
        args:
          text: plain
`,
      null,
      { timeScale: 600 },
    );
    expect(sleeps).toEqual([{ step: 'nap', kind: 'sleep', seconds: 60, scaledMs: 100 }]);
    expect(logs.map((l) => [l.step, l.severity, l.text, l.json])).toEqual([
      ['note', 'INFO', null, { phase: 'Progressing', waitSeconds: 60 }],
      ['text', 'DEFAULT', 'plain', null],
    ]);
  });

  it('raises ValueError for a negative sleep and TypeError for a non-boolean condition', async () => {
    const sleep = await failure(`
main:
  steps:
    - nap:
        call: sys.sleep
        args: {seconds: -1}
`);
    expect(sleep.value).toMatchObject({ tags: ['ValueError'] });
    const condition = await failure(`
main:
  steps:
    - pick:
        switch:
          - condition: \${1}
            return: x
`);
    expect(condition.value).toMatchObject({ tags: ['TypeError'] });
  });

  it('takes whole seconds in sys.sleep: a fraction is a TypeError unless fractionalSleeps allows it', async () => {
    const nap = (seconds: string) => `
main:
  steps:
    - nap:
        call: sys.sleep
        args:
          seconds: ${seconds}
`;
    expect((await run(nap('2'))).sleeps.map((s) => s.seconds)).toEqual([2]);
    expect((await run(nap(`\${int(2.7)}`))).sleeps.map((s) => s.seconds)).toEqual([2]);
    const fraction = await failure(nap('1.5'));
    expect(fraction.value).toMatchObject({ tags: ['TypeError'] });
    expect(String(isMap(fraction.value) ? fraction.value['message'] : '')).toMatch(
      /seconds must be an integer, got double 1\.5/,
    );
    const allowed = await run(nap('0.05'), null, { fractionalSleeps: true });
    expect(allowed.sleeps.map((s) => s.seconds)).toEqual([0.05]);
  });

  it('reads environment variables with sys.get_env', async () => {
    const { result } = await run(
      `
main:
  steps:
    - env:
        return: \${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID") + "/" + sys.get_env("MISSING", "d")}
`,
      null,
      { env: { GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID: 'abc' } },
    );
    expect(result).toBe('abc/d');
  });

  it('stops an endless loop at the 100,000-step limit, which except cannot catch', async () => {
    const program = loadWorkflowText(`
main:
  steps:
    - guard:
        try:
          steps:
            - spin:
                next: spin
        except:
          steps:
            - swallowed:
                return: caught
`);
    const counts: number[] = [];
    const outcome = runWorkflow(program, null, { onStep: (_s, n) => counts.push(n) });
    await expect(outcome).rejects.toBeInstanceOf(StepLimitExceeded);
    await expect(outcome).rejects.toThrow(/limit of 100000 steps \(at step "spin"\)/);
    expect(counts.at(-1)).toBe(100_000);
  });

  it('cancels a sleeping run at once; except does not catch the cancellation', async () => {
    const program = loadWorkflowText(`
main:
  steps:
    - guarded:
        try:
          steps:
            - nap:
                call: sys.sleep
                args: {seconds: 3600}
        except:
          steps:
            - swallowed:
                return: caught
`);
    const abort = new AbortController();
    // Abort once the sleep is under way, not before it starts.
    const outcome = runWorkflow(program, null, {
      signal: abort.signal,
      onSleep: () => setImmediate(() => abort.abort()),
    });
    await expect(outcome).rejects.toBeInstanceOf(ExecutionCancelled);
  });

  it('loads workflows/canary-rollout.yaml within the supported subset', () => {
    const program = loadWorkflowFile('workflows/canary-rollout.yaml');
    expect(program.param).toBe('args');
    expect(program.steps.map((s) => s.name)).toEqual(['init', 'advance', 'logStage', 'finished', 'wait']);
  });
});

describe('workflows/canary-rollout.yaml sleeps', () => {
  const BUILT_IN = {
    GOOGLE_CLOUD_PROJECT_ID: 'demo',
    GOOGLE_CLOUD_LOCATION: 'europe-west1',
    GOOGLE_CLOUD_WORKFLOW_ID: 'canary-rollout',
    GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID: 'e1',
  };

  /** Runs the deployed workflow against a fake advanceRollout answering these waits, then done. */
  async function sleepsFor(waits: readonly (number | null)[], options: RunOptions = {}) {
    let calls = 0;
    const answer = (): Response => {
      const waitSeconds = waits[calls];
      calls += 1;
      const body =
        calls > waits.length
          ? { done: true, phase: 'Succeeded', waitSeconds: 0 }
          : { done: false, phase: 'Progressing', ...(waitSeconds === null ? {} : { waitSeconds }) };
      return new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    };
    const sleeps: SleepRecord[] = [];
    await runWorkflow(
      loadWorkflowFile('workflows/canary-rollout.yaml'),
      { rolloutId: 'r-1', advanceUrl: 'https://advance.example/' },
      {
        timeScale: 100_000,
        fetch: async () => answer(),
        onSleep: (s) => sleeps.push(s),
        ...options,
        env: { ...BUILT_IN, ...options.env },
      },
    );
    return sleeps.map((s) => s.seconds);
  }

  it('in production: int() of the clamped wait, whole seconds from 1 to 3600', async () => {
    const seconds = await sleepsFor([30, 2.7, 0.001, null, 999_999]);
    expect(seconds).toEqual([30, 2, 1, 60, 3600]);
    for (const s of seconds) expect(Number.isInteger(s), String(s)).toBe(true);
  });

  it('in scaled local runs (MIN_WAIT_SECONDS below 1): the clamped fraction, on a runner that takes it', async () => {
    const local = { env: { MIN_WAIT_SECONDS: '0.01' }, fractionalSleeps: true };
    expect(await sleepsFor([0.25, 0.001, 2.5], local)).toEqual([0.25, 0.01, 2.5]);
    await expect(sleepsFor([0.25], { env: { MIN_WAIT_SECONDS: '0.01' } })).rejects.toMatchObject({
      value: { tags: ['TypeError'] },
    });
  });
});

describe('unsupported or invalid syntax is reported at load time with its step', () => {
  const cases: [string, string, RegExp][] = [
    [
      'a for loop',
      `- loop:\n    for:\n      value: v\n      in: [1]\n      steps: [{s: {return: 1}}]`,
      /step "loop": "for" loops are not supported/,
    ],
    [
      'parallel branches',
      `- fan:\n    parallel:\n      branches: []`,
      /step "fan": "parallel" branches are not supported/,
    ],
    [
      'a connector call',
      `- run:\n    call: googleapis.run.v2.projects.locations.services.get`,
      /step "run": call: googleapis\.run\.v2.* is not supported/,
    ],
    [
      'a stdlib call step',
      `- now:\n    call: sys.now\n    result: t`,
      /step "now": call: sys\.now is not supported/,
    ],
    [
      'an unknown function',
      `- s:\n    assign: [{x: '\${text.split("a,b", ",")}'}]`,
      /step "s": function text\.split is not supported/,
    ],
    [
      'a blocking call in an expression',
      `- g:\n    return: '\${http.get("https://x")}'`,
      /step "g": http\.get is a blocking call/,
    ],
    ['next: break', `- b:\n    next: break`, /step "b": next: break belongs to "for" loops/],
    ['a missing jump target', `- j:\n    next: nowhere`, /step "j": next: "nowhere" is not a step/],
    ['an unknown step key', `- odd:\n    wait: 5`, /step "odd": unsupported step: "wait"/],
    ['a syntax error', `- bad:\n    return: '\${1 +}'`, /step "bad": unexpected end of expression/],
    ['a wrong argument count', `- n:\n    return: '\${len(1, 2)}'`, /step "n": len takes 1 arguments, got 2/],
    [
      'an unsupported HTTP argument',
      `- h:\n    call: http.get\n    args: {url: "https://x", private_service_name: p}`,
      /step "h": argument "private_service_name" of http\.get/,
    ],
    [
      'a mixed step',
      `- mix:\n    call: sys.log\n    args: {text: t}\n    assign: [{a: 1}]`,
      /step "mix": a step cannot combine "assign" and "call"/,
    ],
    [
      'a duplicate step name',
      `- a:\n    assign: [{x: 1}]\n- a:\n    return: 1`,
      /step "a": duplicate step name/,
    ],
    [
      'a retry subworkflow predicate',
      `- r:\n    try:\n      call: http.get\n      args: {url: "https://x"}\n    retry:\n      predicate: \${myPredicate}\n      max_retries: 1\n      backoff: {initial_delay: 1, max_delay: 1, multiplier: 1}`,
      /step "r": retry predicate .*myPredicate.* is not supported/,
    ],
    [
      'an over-long expression',
      `- long:\n    return: '\${${'1 + '.repeat(120)}1}'`,
      /step "long": expression longer than 400 characters/,
    ],
  ];

  for (const [what, steps, message] of cases) {
    it(`rejects ${what}`, () => {
      const yaml = `main:\n  steps:\n${steps.replace(/^/gm, '    ')}\n`;
      expect(loadError(yaml)).toMatch(message);
    });
  }

  it('rejects subworkflows, naming them', () => {
    expect(
      loadError(
        'main:\n  steps:\n    - a:\n        call: helper\nhelper:\n  steps:\n    - b:\n        return: 1\n',
      ),
    ).toMatch(/subworkflow "helper" is not supported/);
  });
});
