// The chat page's client: one WebSocket to /chat, reconnected when it closes (a reload sends 1001 "going away",
// and the next connection goes to a worker that stays). ?name=N names you; ?say=T sends T once connected.
'use strict';
const params = new URLSearchParams(location.search);
const name = params.get('name') || 'guest-' + Math.floor(Math.random() * 1000);
const status = document.getElementById('status');
const log = document.getElementById('log');
let socket;
let said = false;

function show(m) {
  const li = document.createElement('li');
  li.className = 'message';
  const who = document.createElement('span');
  who.className = 'worker';
  who.textContent = '[worker ' + m.worker + '] ';
  li.appendChild(who);
  li.appendChild(document.createTextNode(m.name + ': ' + m.text));
  log.appendChild(li);
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  socket = new WebSocket(scheme + location.host + '/chat?name=' + encodeURIComponent(name));
  socket.onopen = () => {
    const say = params.get('say');
    if (say && !said) {
      said = true;
      socket.send(say);
    }
  };
  socket.onmessage = (e) => {
    const m = JSON.parse(e.data);
    if (m.type === 'hello') {
      log.replaceChildren();  // the history follows
      status.textContent = 'connected as ' + name + ' to worker ' + m.worker + ' (pid ' + m.pid + ')';
      status.dataset.worker = m.worker;
    } else {
      show(m);
    }
  };
  socket.onclose = (e) => {
    status.textContent = 'disconnected (' + e.code + '), reconnecting…';
    setTimeout(connect, e.code === 1001 ? 100 : 1000);
  };
}

document.getElementById('say').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = document.getElementById('text');
  if (text.value && socket.readyState === WebSocket.OPEN) {
    socket.send(text.value);
    text.value = '';
  }
});
connect();
