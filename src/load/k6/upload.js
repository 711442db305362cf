// Authenticated avatar uploads (and public GETs) for k6, run from the project root:
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e TOKENS=/abs/path/tokens.txt src/load/k6/upload.js
// Options (all -e): VUS (64), DURATION (30s), READ_VUS (0: no reads), P95_MS (2000),
// IMAGE (path to a JPEG/PNG/GIF/WebP; default: a fixture of this repository), CONTENT_TYPE.
// Plain ES2017 and long-stable k6 APIs only, so it runs on every k6 since v0.45.
import http from 'k6/http';
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

var BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');

if (!__ENV.TOKENS) {
  throw new Error('set -e TOKENS=FILE (java -jar target/avatar-server.jar users create --count N --tokens FILE --url URL)');
}

// open() works in init code only; paths are relative to this script unless absolute.
var USERS = open(__ENV.TOKENS).split('\n')
  .map(function (line) { return line.trim(); })
  .filter(function (line) { return /^\d+\s+\S+$/.test(line); })
  .map(function (line) {
    var parts = line.split(/\s+/);
    return { id: parts[0], token: parts[1] };
  });
if (USERS.length === 0) {
  throw new Error('no "id token" lines in ' + __ENV.TOKENS);
}

var IMAGE_PATH = __ENV.IMAGE || '../../test/resources/fixtures/images/avatar-256.jpg';
var IMAGE = open(IMAGE_PATH, 'b');
var TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };
var extension = IMAGE_PATH.split('.').pop().toLowerCase();
var CONTENT_TYPE = __ENV.CONTENT_TYPE || TYPES[extension];
if (!CONTENT_TYPE) {
  throw new Error('cannot tell the type of ' + IMAGE_PATH + '; set -e CONTENT_TYPE');
}

var statuses = new Counter('upload_refused');

var scenarios = {
  uploads: {
    executor: 'constant-vus',
    exec: 'upload',
    vus: parseInt(__ENV.VUS || '64', 10),
    duration: __ENV.DURATION || '30s'
  }
};
if (parseInt(__ENV.READ_VUS || '0', 10) > 0) {
  scenarios.reads = {
    executor: 'constant-vus',
    exec: 'read',
    vus: parseInt(__ENV.READ_VUS, 10),
    duration: __ENV.DURATION || '30s'
  };
}

export var options = {
  scenarios: scenarios,
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{kind:upload}': ['p(95)<' + (__ENV.P95_MS || '2000')],
    'checks{kind:upload}': ['rate>0.99']
  }
};

function pick() {
  return USERS[exec.scenario.iterationInTest % USERS.length];
}

export function upload() {
  var user = pick();
  var response = http.put(BASE_URL + '/users/' + user.id + '/avatar', IMAGE, {
    headers: { Authorization: 'Bearer ' + user.token, 'Content-Type': CONTENT_TYPE },
    tags: { kind: 'upload', name: 'PUT /users/{id}/avatar' }
  });
  var ok = check(response, {
    'upload answered 200 or 201': function (r) { return r.status === 200 || r.status === 201; }
  }, { kind: 'upload' });
  if (!ok) {
    statuses.add(1, { status: String(response.status) });
  }
}

export function read() {
  var user = pick();
  var response = http.get(BASE_URL + '/users/' + user.id + '/avatar', {
    tags: { kind: 'read', name: 'GET /users/{id}/avatar' },
    // A user without an avatar yet is an expected 404, not a failed request.
    responseCallback: http.expectedStatuses(200, 304, 404)
  });
  check(response, { 'read answered': function (r) { return r.status === 200 || r.status === 404; } }, { kind: 'read' });
}
