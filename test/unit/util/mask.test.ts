import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretName, maskArgv, maskEnv, maskKnown, maskText } from '../../../backend/src/util/mask';

void test('secret-looking names: tokens, secrets, passwords, keys, credentials; not counts, folders or pointers', () => {
  for (const n of ['MLFLOW_TRACKING_TOKEN', 'HF_TOKEN', 'GITHUB_TOKEN', 'accessToken', 'AWS_SECRET_ACCESS_KEY', 'CLIENT_SECRET', 'DB_PASSWORD', 'MYSQL_PASS', 'PGPASSWORD', 'OPENAI_API_KEY', 'APIKEY', 'STRIPE_KEY', 'api-key', 'password', 'GOOGLE_CREDENTIALS', 'AUTH', 'SESSION_COOKIE']) {
    assert.equal(isSecretName(n), true, n);
  }
  for (const n of ['PATH', 'PWD', 'OLDPWD', 'HOME', 'TOKENIZERS_PARALLELISM', 'MAX_TOKENS', 'GIT_AUTHOR_NAME', 'KEYBOARD', 'MONKEY', 'TOKEN_FILE', 'password-env', 'SSH_AUTH_SOCK', 'max-depth', 'n_estimators']) {
    assert.equal(isSecretName(n), false, n);
  }
});

void test('text: known values, job tokens, URL credentials, auth headers, NAME=value, quoted pairs and flags', () => {
  const known = ['s3cr3t-value-123'];
  const cases: [string, string][] = [
    ['the value s3cr3t-value-123 twice s3cr3t-value-123', 'the value *** twice ***'],
    ['tok mlopsjob_abcdefghijklmnopqrstuvwxyz012345 end', 'tok *** end'],
    ['DATABASE_URL=postgres://u:pw@h/db', 'DATABASE_URL=postgres://u:***@h/db'],
    ['see https://user:p%40ss@example.test/x', 'see https://user:***@example.test/x'],
    ['Authorization: Bearer abcdefgh12345678', 'Authorization: Bearer ***'],
    ['MLFLOW_TRACKING_TOKEN=abc PATH=/bin', 'MLFLOW_TRACKING_TOKEN=*** PATH=/bin'],
    ["environ({'MY_API_KEY': 'k1', 'HOME': '/root'})", "environ({'MY_API_KEY': '***', 'HOME': '/root'})"],
    ['{"DB_PASSWORD": "p\\"w", "USER": "me"}', '{"DB_PASSWORD": "***", "USER": "me"}'],
    ['train.py --password=hunter2 --token abc --max-depth 3', 'train.py --password=*** --token *** --max-depth 3'],
    ['TOKENIZERS_PARALLELISM=false max_tokens=5', 'TOKENIZERS_PARALLELISM=false max_tokens=5'],
    ['short known values are kept: abc', 'short known values are kept: abc'],
  ];
  for (const [input, want] of cases) assert.equal(maskText(input, [...known, 'abc']), want, input);
  assert.equal(maskKnown('{"key":"s3cr3t-value-123","password":"x"}', known), '{"key":"***","password":"x"}', 'API answers: values only');
});

void test('env and argv records', () => {
  assert.deepEqual(maskEnv({ A_TOKEN: 'x', URL: 'mysql://root:pw@127.0.0.1/db', PLAIN: 'known-secret-1', N: '3' }, ['known-secret-1']), {
    A_TOKEN: '***',
    URL: 'mysql://root:***@127.0.0.1/db',
    PLAIN: '***',
    N: '3',
  });
  assert.deepEqual(maskArgv(['python', 'x.py', '--token', 'abc', '--api-key=k', '-n', '3', 'sh -c "run --password=pw"']), ['python', 'x.py', '--token', '***', '--api-key=***', '-n', '3', 'sh -c "run --password=***"']);
});
