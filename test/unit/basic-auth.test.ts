import { basicCredentialsMatch, parseBasicAuthorization } from '../../src/core/basic-auth';

const basic = (userAndPassword: string): string => 'Basic ' + Buffer.from(userAndPassword, 'utf8').toString('base64');

describe('parseBasicAuthorization', () => {
  test.each([
    ['studio:s3cret', { user: 'studio', password: 's3cret' }],
    ['studio:pa:ss:word', { user: 'studio', password: 'pa:ss:word' }],
    ['studio:', { user: 'studio', password: '' }],
    ['stüdio:pässwörd', { user: 'stüdio', password: 'pässwörd' }],
    ['user with space:pass word', { user: 'user with space', password: 'pass word' }],
  ])('reads %p', (userAndPassword, expected) => {
    expect(parseBasicAuthorization(basic(userAndPassword))).toEqual(expected);
  });

  test('the scheme name is case-insensitive (RFC 7617)', () => {
    const encoded = Buffer.from('studio:s3cret').toString('base64');
    expect(parseBasicAuthorization(`basic ${encoded}`)).toEqual({ user: 'studio', password: 's3cret' });
    expect(parseBasicAuthorization(`BASIC ${encoded}`)).toEqual({ user: 'studio', password: 's3cret' });
  });

  test.each([
    ['a Bearer token', 'Bearer eyJhbGciOi.abc.def'],
    ['no credentials', 'Basic '],
    ['the scheme alone', 'Basic'],
    ['no colon', basic('studio')],
    ['an empty user', basic(':s3cret')],
    ['not base64', 'Basic !!!not-base64!!!'],
    ['another scheme', 'Digest username="studio"'],
    ['credentials without a scheme', Buffer.from('studio:s3cret').toString('base64')],
    ['an empty header', ''],
  ])('%s is not Basic credentials', (_label, header) => {
    expect(parseBasicAuthorization(header)).toBeUndefined();
  });
});

describe('basicCredentialsMatch', () => {
  const expected = { user: 'studio', password: 'correct horse battery staple' };

  test('the configured user and password match', () => {
    expect(basicCredentialsMatch({ user: 'studio', password: 'correct horse battery staple' }, expected)).toBe(true);
  });

  test.each([
    ['wrong password', { user: 'studio', password: 'wrong' }],
    ['wrong user', { user: 'other', password: 'correct horse battery staple' }],
    ['password prefix', { user: 'studio', password: 'correct horse' }],
    ['password with extra characters', { user: 'studio', password: 'correct horse battery staple!' }],
    ['different case in the password', { user: 'studio', password: 'Correct horse battery staple' }],
    ['different case in the user', { user: 'Studio', password: 'correct horse battery staple' }],
    ['user and password swapped', { user: 'correct horse battery staple', password: 'studio' }],
    ['empty password', { user: 'studio', password: '' }],
    ['empty user', { user: '', password: 'correct horse battery staple' }],
  ])('%s does not match', (_label, given) => {
    expect(basicCredentialsMatch(given, expected)).toBe(false);
  });

  test('a full header round-trips to a match', () => {
    const given = parseBasicAuthorization(basic('studio:correct horse battery staple'));
    expect(given).toBeDefined();
    expect(basicCredentialsMatch(given as { user: string; password: string }, expected)).toBe(true);
  });

  test('a colon moved between user and password does not match', () => {
    const given = parseBasicAuthorization(basic('studio:x:y'));
    expect(basicCredentialsMatch(given as { user: string; password: string }, { user: 'studio:x', password: 'y' })).toBe(false);
  });
});
