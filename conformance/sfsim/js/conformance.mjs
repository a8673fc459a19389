// sfsim conformance with jsforce (an independent client from npm).
// Usage: node conformance.mjs ORG_JSON — the ready line `sonde sfsim` prints, saved to a file.
// With TLS, start node with NODE_EXTRA_CA_CERTS pointing at the org's ca_cert.
// Prints PASS/FAIL per check and `RESULT passed=N failed=M`; exits 1 on any failure.
import fs from 'node:fs';
import jsforce from 'jsforce';

const info = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const V = '59.0';
const oauth2 = {
  loginUrl: info.login_url,
  clientId: info.client_id,
  clientSecret: info.client_secret,
  redirectUri: 'http://localhost:1717/OauthRedirect',
};
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`PASS js/${name}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL js/${name}: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

async function admin(path, body = {}) {
  const r = await fetch(`${info.instance_url}/_sim/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert(r.status < 300, `admin ${path}: ${r.status}`);
}

function session() {
  return new jsforce.Connection({ oauth2, instanceUrl: info.instance_url, accessToken: info.access_token, refreshToken: info.refresh_token, version: V });
}

async function expectError(promise, code) {
  try {
    await promise;
  } catch (e) {
    assert(e.errorCode === code || e.name === code, `expected ${code}, got ${e.errorCode || e.name}: ${e.message}`);
    return e;
  }
  throw new Error(`expected ${code}, call succeeded`);
}

function fetchAll(query, opts) {
  return new Promise((resolve, reject) => {
    const records = [];
    query
      .on('record', (r) => records.push(r))
      .on('end', () => resolve(records))
      .on('error', reject)
      .run(opts);
  });
}

await check('login_with_password_grant', async () => {
  const conn = new jsforce.Connection({ oauth2, version: V });
  const user = await conn.login(info.username, info.password);
  assert(conn.instanceUrl === info.instance_url, conn.instanceUrl);
  assert(user.organizationId === info.org_id, JSON.stringify(user));
  const res = await conn.query('SELECT Id FROM Organization');
  assert(res.records[0].Id === info.org_id, JSON.stringify(res));
  const bad = new jsforce.Connection({ oauth2, version: V });
  await expectError(bad.login(info.username, 'wrong-password'), 'invalid_grant');
});

await check('login_with_soap_partner_call', async () => {
  const conn = new jsforce.Connection({ loginUrl: info.login_url, version: V });
  const user = await conn.login(info.username, info.password + info.security_token);
  assert(user.organizationId === info.org_id && conn.instanceUrl === info.instance_url, `${JSON.stringify(user)} ${conn.instanceUrl}`);
  const res = await conn.query('SELECT COUNT() FROM User');
  assert(res.totalSize >= 3, JSON.stringify(res));
  const bad = new jsforce.Connection({ loginUrl: info.login_url, version: V });
  // jsforce turns the SOAP fault into a plain Error carrying the faultstring.
  try {
    await bad.login(info.username, 'nope');
    throw new Error('bad SOAP login accepted');
  } catch (e) {
    assert(e.message.startsWith('INVALID_LOGIN:'), e.message);
  }
});

await check('identity_and_userinfo', async () => {
  const conn = session();
  const id = await conn.identity();
  assert(id.username === info.username && id.organization_id === info.org_id, JSON.stringify(id));
});

await check('expired_session_refreshes_with_refresh_token', async () => {
  const conn = session();
  let refreshed = null;
  conn.on('refresh', (token) => { refreshed = token; });
  await conn.query('SELECT Id FROM Account LIMIT 1');
  await admin('sessions/expire');
  const res = await conn.query('SELECT COUNT() FROM Account');
  assert(res.totalSize >= 12, JSON.stringify(res));
  assert(refreshed && refreshed !== info.access_token, 'no refresh happened');
  info.access_token = conn.accessToken;
});

await check('describe_global_and_object', async () => {
  const conn = session();
  const g = await conn.describeGlobal();
  const names = new Set(g.sobjects.map((o) => o.name));
  for (const n of ['Account', 'Contact', 'Lead', 'Case', 'Campaign', 'CampaignMember', 'LiveChatTranscript', 'Survey_Response__c', 'Widget__c']) assert(names.has(n), n);
  const d = await conn.sobject('Lead').describe();
  const f = Object.fromEntries(d.fields.map((x) => [x.name, x]));
  assert(f.DoNotCall.type === 'boolean' && f.Company.nillable === false, 'Lead fields');
  assert(f.Status.picklistValues.some((p) => p.value === 'Open - Not Contacted' && p.defaultValue), 'Lead status picklist');
  const acc = await conn.sobject('Account').describe();
  const summary = acc.fields.find((x) => x.name === 'Survey_Response_Count__c');
  assert(summary && summary.calculated && !summary.updateable, 'roll-up field');
});

await check('create_retrieve_update_delete', async () => {
  const conn = session();
  const created = await conn.sobject('Lead').create({ LastName: 'Js', Company: 'Conformance Inc' });
  assert(created.success && created.id.length === 18, JSON.stringify(created));
  const got = await conn.sobject('Lead').retrieve(created.id);
  assert(got.Company === 'Conformance Inc' && got.Status === 'Open - Not Contacted', JSON.stringify(got));
  const upd = await conn.sobject('Lead').update({ Id: created.id, DoNotCall: true });
  assert(upd.success, JSON.stringify(upd));
  const again = await conn.sobject('Lead').retrieve(created.id);
  assert(again.DoNotCall === true, 'update kept');
  const del = await conn.sobject('Lead').destroy(created.id);
  assert(del.success, JSON.stringify(del));
  await expectError(conn.sobject('Lead').retrieve(created.id), 'NOT_FOUND');
});

await check('upsert_by_external_id', async () => {
  const conn = session();
  const a = await conn.sobject('Widget__c').upsert({ Code__c: 'JS-UP-1', Quantity__c: 1 }, 'Code__c');
  assert(a.success && a.created === true, JSON.stringify(a));
  const b = await conn.sobject('Widget__c').upsert({ Code__c: 'JS-UP-1', Quantity__c: 2 }, 'Code__c');
  assert(b.success && b.created === false && b.id === a.id, JSON.stringify(b));
  await conn.sobject('Widget__c').create([{ Code__c: 'JS-DUP' }, { Code__c: 'JS-DUP' }]);
  // 300 Multiple Choices: jsforce reports it as MULTIPLE_CHOICES with the matching records' URLs.
  const e = await expectError(conn.sobject('Widget__c').upsert({ Code__c: 'JS-DUP', Quantity__c: 3 }, 'Code__c'), 'MULTIPLE_CHOICES');
  const urls = e.content || e.data;
  assert(Array.isArray(urls) && urls.length === 2 && urls[0].includes('/sobjects/Widget__c/'), JSON.stringify(urls));
});

await check('collections_create_update_upsert_delete', async () => {
  const conn = session();
  const recs = Array.from({ length: 200 }, (_, i) => ({ Code__c: `JS-COL-${i}`, Quantity__c: i }));
  const res = await conn.sobject('Widget__c').create(recs, { allOrNone: true });
  assert(res.length === 200 && res.every((r) => r.success), 'create 200');
  const upd = await conn.sobject('Widget__c').update(res.map((r) => ({ Id: r.id, Batch__c: 'JS-COL' })));
  assert(upd.every((r) => r.success), 'update');
  const ups = await conn.sobject('Widget__c').upsert([{ Code__c: 'JS-COL-0', Quantity__c: 999 }, { Code__c: 'JS-COL-NEW', Quantity__c: 1 }], 'Code__c');
  assert(ups[0].created === false && ups[1].created === true, JSON.stringify(ups));
  const mixed = await conn.sobject('Contact').create([{ LastName: 'Fine' }, { FirstName: 'Missing last name' }]);
  assert(mixed[0].success && !mixed[1].success, JSON.stringify(mixed));
  assert(mixed[1].errors[0].statusCode === 'REQUIRED_FIELD_MISSING', JSON.stringify(mixed[1]));
  const del = await conn.sobject('Widget__c').destroy(res.slice(0, 50).map((r) => r.id));
  assert(del.length === 50 && del.every((r) => r.success), 'delete');
});

await check('query_autofetch_over_5000_records', async () => {
  const conn = session();
  for (let start = 0; start < 5300; start += 200) {
    const batch = Array.from({ length: 200 }, (_, i) => ({ Code__c: `JS-PAGE-${start + i}`, Batch__c: 'JS-PAGE', Quantity__c: start + i }));
    const r = await conn.sobject('Widget__c').create(batch, { allOrNone: true });
    assert(r.every((x) => x.success), 'seed rows');
  }
  const first = await conn.query("SELECT Id FROM Widget__c WHERE Batch__c = 'JS-PAGE'");
  assert(first.totalSize === 5400 && !first.done && first.records.length === 2000 && first.nextRecordsUrl, `first page ${first.totalSize}`);
  const all = await fetchAll(conn.query("SELECT Id, Code__c, Quantity__c FROM Widget__c WHERE Batch__c = 'JS-PAGE'"), { autoFetch: true, maxFetch: 100000 });
  assert(all.length === 5400 && new Set(all.map((r) => r.Id)).size === 5400, `autofetch got ${all.length}`);
});

await check('query_all_includes_deleted', async () => {
  const conn = session();
  const w = await conn.sobject('Widget__c').create({ Code__c: 'JS-DEL' });
  await conn.sobject('Widget__c').destroy(w.id);
  const live = await conn.query("SELECT Id FROM Widget__c WHERE Code__c = 'JS-DEL'");
  assert(live.totalSize === 0, 'deleted row in query');
  const all = await conn.query("SELECT Id, IsDeleted FROM Widget__c WHERE Code__c = 'JS-DEL'", { scanAll: true });
  assert(all.totalSize === 1 && all.records[0].IsDeleted === true, JSON.stringify(all));
});

await check('bulk2_query', async () => {
  const conn = session();
  conn.bulk2.pollInterval = 200;
  conn.bulk2.pollTimeout = 60000;
  const stream = await conn.bulk2.query("SELECT Id, Code__c, Quantity__c FROM Widget__c WHERE Batch__c = 'JS-PAGE'");
  const rows = await new Promise((resolve, reject) => {
    const out = [];
    stream.on('record', (r) => out.push(r)).on('end', () => resolve(out)).on('error', reject);
  });
  assert(rows.length === 5400, `bulk rows ${rows.length}`);
  assert(rows[0].Id && rows[0].Code__c.startsWith('JS-PAGE-'), JSON.stringify(rows[0]));
});

await check('error_bad_field', async () => {
  const conn = session();
  const e = await expectError(conn.query('SELECT Bogus__c FROM Contact'), 'INVALID_FIELD');
  assert(e.message.includes('ERROR at Row:1:Column:8'), e.message);
  await expectError(conn.query('SELECT Id FROM'), 'MALFORMED_QUERY');
});

await check('error_missing_required_field', async () => {
  const conn = session();
  await expectError(conn.sobject('Case').create({ Subject: 'x', AccountId: '003000000000000AAA' }), 'FIELD_INTEGRITY_EXCEPTION');
  await expectError(conn.sobject('Case').create({ Subject: 'x', AccountId: '001000000000000AAA' }), 'INVALID_CROSS_REFERENCE_KEY');
  await expectError(conn.sobject('Lead').create({ LastName: 'No company' }), 'REQUIRED_FIELD_MISSING');
  await expectError(conn.sobject('Account').create({ Name: 'x'.repeat(300) }), 'STRING_TOO_LONG');
  await expectError(conn.sobject('Account').create({ Name: 'ok', Bogus__c: 1 }), 'INVALID_FIELD');
  await expectError(conn.sobject('Account').create({ Name: 'ok', CreatedDate: '2020-01-01T00:00:00Z' }), 'INVALID_FIELD_FOR_INSERT_UPDATE');
});

await check('composite_with_references', async () => {
  const conn = session();
  const res = await conn.requestPost(`/services/data/v${V}/composite`, {
    allOrNone: true,
    compositeRequest: [
      { method: 'POST', url: `/services/data/v${V}/sobjects/Account`, referenceId: 'acct', body: { Name: 'Composite Co' } },
      { method: 'POST', url: `/services/data/v${V}/sobjects/Contact`, referenceId: 'ct', body: { LastName: 'Ref', AccountId: '@{acct.id}' } },
      { method: 'GET', url: `/services/data/v${V}/sobjects/Contact/@{ct.id}?fields=AccountId`, referenceId: 'get' },
    ],
  });
  const [a, c, g] = res.compositeResponse;
  assert(a.httpStatusCode === 201 && c.httpStatusCode === 201 && g.httpStatusCode === 200, JSON.stringify(res));
  assert(g.body.AccountId === a.body.id, 'reference resolved');
});

await check('limit_exceeded', async () => {
  const conn = session();
  await admin('limits', { exhausted: true });
  try {
    await expectError(conn.query('SELECT Id FROM Account LIMIT 1'), 'REQUEST_LIMIT_EXCEEDED');
  } finally {
    await admin('limits', { exhausted: false });
  }
  const ok = await conn.query('SELECT Id FROM Account LIMIT 1');
  assert(ok.totalSize === 1, 'works again');
  const limits = await conn.limits();
  assert(limits.DailyApiRequests.Max > 0 && limits.DailyApiRequests.Remaining < limits.DailyApiRequests.Max, JSON.stringify(limits.DailyApiRequests));
});

console.log(`RESULT passed=${passed} failed=${failed}`);
process.exit(failed ? 1 : 0);
