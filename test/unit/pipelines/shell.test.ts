import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { shellScriptIndex, templatesToEnv } from '../../../backend/src/services/pipelines/shell';

void test('shell scripts are found behind -c, option clusters, -o arguments and env', () => {
  assert.equal(shellScriptIndex(['sh', '-c', 'x']), 2);
  assert.equal(shellScriptIndex(['/bin/bash', '-euo', 'pipefail', '-c', 'x']), 4);
  assert.equal(shellScriptIndex(['bash', '-ec', 'x', 'arg0']), 2);
  assert.equal(shellScriptIndex(['bash', '--norc', '-c', 'x']), 3);
  assert.equal(shellScriptIndex(['/usr/bin/env', 'A=1', 'bash', '-lc', 'x']), 4);
  assert.equal(shellScriptIndex(['sh', 'script.sh', '-c']), -1, 'a script file, not -c');
  assert.equal(shellScriptIndex(['python', '-c', 'x']), -1);
  assert.equal(shellScriptIndex(['sh', '-c']), -1);
});

void test('templates become variable references quoted for where they stand', () => {
  const vars: Record<string, string> = {};
  const out = templatesToEnv(`echo \${{ a }} "x \${{ b }}" 'y \${{ a }}' $'z \${{ b }}' "$(cat \${{ a }})" \`echo \${{ b }}\``, vars);
  assert.deepEqual(vars, { MLOPS_TEMPLATE_0: '${{ a }}', MLOPS_TEMPLATE_1: '${{ b }}' });
  assert.equal(
    out,
    `echo "\${MLOPS_TEMPLATE_0}" "x \${MLOPS_TEMPLATE_1}" 'y '"\${MLOPS_TEMPLATE_0}"'' $'z '"\${MLOPS_TEMPLATE_1}"$'' "$(cat "\${MLOPS_TEMPLATE_0}")" \`echo "\${MLOPS_TEMPLATE_1}"\``,
  );
  assert.equal(templatesToEnv('no templates, an escaped \\"${x}\\" and a quote \'"\'', {}), 'no templates, an escaped \\"${x}\\" and a quote \'"\'');
});

void test('a real shell reads every value back verbatim, in every quoting context', () => {
  const value = `a  b'c"d; touch /nonexistent/x $(id) \`id\` \\ $HOME *`;
  const scripts = [
    'printf %s ${{ v }}',
    'printf %s "${{ v }}"',
    "printf %s '${{ v }}'",
    'printf %s "$(printf %s ${{ v }})"',
    'printf %s "pre-${{ v }}-post" | sed "s/^pre-//; s/-post$//"',
  ];
  // $'...' is bash's (dash reads it as $ and a quoted string: wrong text, still no code).
  const runs = [...scripts.flatMap((s) => [['sh', s], ['bash', s]]), ['bash', "printf %s $'${{ v }}'"]];
  for (const [shell, s] of runs) {
    const vars: Record<string, string> = {};
    const script = templatesToEnv(s!, vars);
    const env = Object.fromEntries(Object.keys(vars).map((k) => [k, value]));
    assert.equal(execFileSync(shell!, ['-c', script], { env: { ...env, PATH: process.env.PATH }, encoding: 'utf8' }), value, `${shell}: ${s}`);
  }
});
