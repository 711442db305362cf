// The upload page: no framework, no build step. Talks to the same API as curl does.
const MAX_BYTES = 10 * 1024 * 1024;
const TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const TOKEN_KEY = 'avatar-server.token';
const USER_KEY = 'avatar-server.user';

// What each refusal means for a person, beside the server's own title and detail.
const ADVICE = {
  400: 'The request was not understood. Check the user id: it must be a positive whole number.',
  401: 'The token is missing, expired or not valid. Mint a new one and paste it in the Token field.',
  403: 'This token belongs to another user. Use the token of this user, or an admin token.',
  404: 'There is no such user, or no avatar to delete.',
  408: 'The upload was too slow and was stopped. Check your connection and try again.',
  409: 'Another upload for this user happened at the same time. Try again.',
  413: 'The file is larger than the 10 MB limit. Choose a smaller image.',
  415: 'Only JPEG, PNG, GIF and WebP images are accepted, and the file must really be one.',
  422: 'The image could not be accepted: it is too small, damaged, or too large in pixels.',
  429: 'Too many uploads in a short time. Wait a moment and try again.',
  503: 'The server is busy or its database is unavailable. Try again in a moment.',
  507: 'The server has no space left to store images. Try again later.',
};

const $ = (id) => document.getElementById(id);
const form = $('upload-form');
const fileInput = $('file');
let chosen = null;
let xhr = null;

// For tests and curious people: window.avatarPage.skipClientChecks = true sends whatever is chosen.
window.avatarPage = { skipClientChecks: false };

$('token').value = sessionStorage.getItem(TOKEN_KEY) || '';
$('user-id').value = sessionStorage.getItem(USER_KEY) || '';
$('token').addEventListener('input', () => sessionStorage.setItem(TOKEN_KEY, $('token').value.trim()));
$('user-id').addEventListener('input', () => sessionStorage.setItem(USER_KEY, $('user-id').value.trim()));

function show(element, visible) {
  element.hidden = !visible;
}

function formatBytes(n) {
  if (n >= 1024 * 1024) return (n / (1024 * 1024)).toFixed(1) + ' MB';
  if (n >= 1024) return (n / 1024).toFixed(1) + ' KB';
  return n + ' bytes';
}

function clearOutcome() {
  show($('problem'), false);
  show($('notice'), false);
  show($('check'), false);
}

function checkFile(file) {
  if (window.avatarPage.skipClientChecks) return null;
  if (!TYPES.includes(file.type)) {
    return '"' + file.name + '" is not a JPEG, PNG, GIF or WebP image. Choose one of those.';
  }
  if (file.size > MAX_BYTES) {
    return '"' + file.name + '" is ' + formatBytes(file.size) + '; the limit is 10 MB. Choose a smaller image.';
  }
  return null;
}

function choose(file) {
  clearOutcome();
  chosen = file || null;
  const preview = $('preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  show(preview, false);
  if (!chosen) return;
  const problem = checkFile(chosen);
  if (problem) {
    $('check').textContent = problem;
    show($('check'), true);
    return;
  }
  if (TYPES.includes(chosen.type)) {
    preview.src = URL.createObjectURL(chosen);
    show(preview, true);
  }
}

fileInput.addEventListener('change', () => choose(fileInput.files[0]));

const zone = $('drop-zone');
['dragenter', 'dragover'].forEach((type) => zone.addEventListener(type, (event) => {
  event.preventDefault();
  zone.classList.add('over');
}));
['dragleave', 'drop'].forEach((type) => zone.addEventListener(type, () => zone.classList.remove('over')));
zone.addEventListener('drop', (event) => {
  event.preventDefault();
  if (event.dataTransfer.files.length > 0) choose(event.dataTransfer.files[0]);
});

function credentials() {
  const user = $('user-id').value.trim();
  const token = $('token').value.trim();
  if (!/^[1-9][0-9]*$/.test(user)) {
    $('check').textContent = 'Enter the user id: a positive whole number.';
    show($('check'), true);
    $('user-id').focus();
    return null;
  }
  return { user, token };
}

function showProblem(status, bodyText) {
  let problem = {};
  try {
    problem = JSON.parse(bodyText);
  } catch (ignored) {
    problem = {};
  }
  $('problem-title').textContent = (problem.title || 'The request failed') + (status ? ' (' + status + ')' : '');
  $('problem-detail').textContent = problem.detail || '';
  $('problem-advice').textContent = ADVICE[status] || 'Something went wrong. Try again.';
  show($('problem'), true);
}

function showAvatar(info) {
  $('avatar').src = info.url;
  $('info-type').textContent = info.contentType;
  $('info-size').textContent = formatBytes(info.size) + ' (' + info.size + ' bytes)';
  $('info-dimensions').textContent = info.width + ' × ' + info.height;
  $('info-sha256').textContent = info.sha256;
  $('info-version').textContent = String(info.version);
  show($('result'), true);
}

function setProgress(loaded, total) {
  const percent = total > 0 ? Math.floor((loaded * 100) / total) : 0;
  $('progress').value = percent;
  $('progress').textContent = percent + ' %';
  $('progress-text').textContent = formatBytes(loaded) + ' of ' + formatBytes(total) + ' (' + percent + ' %)';
}

function busy(uploading) {
  $('upload').disabled = uploading;
  $('delete').disabled = uploading;
  $('cancel').disabled = !uploading;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  clearOutcome();
  const who = credentials();
  if (!who) return;
  if (!chosen) {
    $('check').textContent = 'Choose an image first.';
    show($('check'), true);
    fileInput.focus();
    return;
  }
  const problem = checkFile(chosen);
  if (problem) {
    $('check').textContent = problem;
    show($('check'), true);
    return;
  }
  xhr = new XMLHttpRequest();
  xhr.open('PUT', '/users/' + who.user + '/avatar');
  xhr.setRequestHeader('Content-Type', chosen.type || 'application/octet-stream');
  if (who.token) xhr.setRequestHeader('Authorization', 'Bearer ' + who.token);
  xhr.upload.onprogress = (e) => setProgress(e.loaded, e.lengthComputable ? e.total : chosen.size);
  xhr.upload.onload = () => setProgress(chosen.size, chosen.size);
  xhr.onload = () => {
    busy(false);
    if (xhr.status >= 200 && xhr.status < 300) {
      setProgress(chosen.size, chosen.size);
      $('notice').textContent = xhr.status === 201 ? 'Avatar stored.' : 'Avatar replaced.';
      show($('notice'), true);
      showAvatar(JSON.parse(xhr.responseText));
    } else {
      showProblem(xhr.status, xhr.responseText);
    }
    xhr = null;
  };
  xhr.onerror = () => {
    busy(false);
    showProblem(0, JSON.stringify({ title: 'The connection failed',
      detail: 'The server could not be reached or closed the connection.' }));
    xhr = null;
  };
  xhr.onabort = () => {
    busy(false);
    $('notice').textContent = 'Upload cancelled. Your previous avatar, if any, is unchanged.';
    show($('notice'), true);
    $('progress-text').textContent = 'Cancelled.';
    xhr = null;
  };
  busy(true);
  setProgress(0, chosen.size);
  xhr.send(chosen);
});

$('cancel').addEventListener('click', () => {
  if (xhr) xhr.abort();
});

$('delete').addEventListener('click', async () => {
  clearOutcome();
  const who = credentials();
  if (!who) return;
  const headers = who.token ? { Authorization: 'Bearer ' + who.token } : {};
  const response = await fetch('/users/' + who.user + '/avatar', { method: 'DELETE', headers });
  if (response.status === 204) {
    show($('result'), false);
    $('notice').textContent = 'Avatar deleted.';
    show($('notice'), true);
  } else {
    showProblem(response.status, await response.text());
  }
});
