// The player page: channel list, hls.js playback, heartbeats and leaving.
//
// The server hands out a viewer session per click. Its playlist URL carries a
// short-lived token in the path; every heartbeat returns a fresh one, which is
// swapped into each request hls.js makes, so a long watch never outlives it.
(() => {
  "use strict";

  const config = JSON.parse(document.getElementById("player-config").textContent);
  const csrfToken = document.getElementById("csrf-token").value;
  const video = document.getElementById("video");
  const list = document.getElementById("channels");
  const statusLine = document.getElementById("status");

  const LIST_REFRESH_MS = 10000;
  // After the playlist vanished (FFmpeg restarting, or the channel stopped),
  // ask the server again after this long, doubling up to the maximum.
  const REWATCH_FIRST_DELAY_MS = 500;
  const REWATCH_MAX_DELAY_MS = 8000;
  // FFmpeg that died leaves its last playlist behind, which hls.js keeps
  // reloading without an error: a picture frozen this long means that.
  const STALL_CHECK_MS = 1000;
  const STALL_LIMIT_MS = 5000;

  // Live edge first: start two 1 s segments behind the newest and catch up
  // by playing slightly faster when we fall behind.
  const HLS_CONFIG = {
    liveSyncDurationCount: 2,
    liveMaxLatencyDurationCount: 6,
    maxLiveSyncPlaybackRate: 1.2,
    maxBufferLength: 6,
    backBufferLength: 10,
    startFragPrefetch: true,
    xhrSetup: (xhr, url) => xhr.open("GET", withCurrentToken(url), true),
    playlistLoadPolicy: loadPolicy(4),
    fragLoadPolicy: loadPolicy(3),
  };

  let channels = [];
  let session = null; // the server's answer to watch, kept up to date by heartbeats
  let hls = null;
  let heartbeatTimer = null;
  let rewatchDelay = REWATCH_FIRST_DELAY_MS;
  let rewatchPending = false;
  // Increases with every click, so a slow answer for an earlier click is dropped.
  let generation = 0;

  function loadPolicy(retries) {
    const retry = { maxNumRetry: retries, retryDelayMs: 250, maxRetryDelayMs: 2000 };
    return {
      default: {
        maxTimeToFirstByteMs: 8000,
        maxLoadTimeMs: 15000,
        timeoutRetry: retry,
        errorRetry: retry,
      },
    };
  }

  function tokenOf(url) {
    return new URL(url, location.href).pathname.split("/")[2];
  }

  function withCurrentToken(url) {
    if (!session) return url;
    return url.replace(/\/hls\/[^/]+\//, `/hls/${tokenOf(session.playlist_url)}/`);
  }

  function setStatus(text) {
    statusLine.textContent = text;
  }

  async function post(url) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrfToken },
      credentials: "same-origin",
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(body.error || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // --- channel list --------------------------------------------------------

  async function refreshList() {
    try {
      const response = await fetch(config.channelsUrl, { credentials: "same-origin" });
      if (response.ok) {
        channels = (await response.json()).channels;
        renderList();
      }
    } catch (error) {
      // The next refresh tries again; the list keeps its last state.
    }
  }

  function renderList() {
    list.replaceChildren(
      ...channels.map((channel) => {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.channel = channel.id;
        button.setAttribute("aria-pressed", String(session?.channel_id === channel.id));
        button.textContent = channel.name;
        const badge = document.createElement("span");
        badge.className = `state state-${channel.state}`;
        badge.textContent = channel.state;
        button.append(badge);
        button.addEventListener("click", () => watch(channel));
        const item = document.createElement("li");
        item.append(button);
        return item;
      }),
    );
    if (!channels.length) list.textContent = "No rooms yet.";
  }

  // --- watching ------------------------------------------------------------

  async function watch(channel) {
    const mine = ++generation;
    leave();
    rewatchDelay = REWATCH_FIRST_DELAY_MS;
    setStatus(`Starting ${channel.name}…`);
    renderList();

    let answer;
    try {
      answer = await post(channel.watch_url);
    } catch (error) {
      if (mine === generation) setStatus(`${channel.name}: ${error.message}`);
      return;
    }
    if (mine !== generation) {
      leaveSession(answer); // the viewer clicked something else meanwhile
      return;
    }
    startSession(answer);
    attach(answer.playlist_url, channel.name);
    renderList();
  }

  function attach(playlistUrl, name) {
    if (hls) hls.destroy();
    hls = new Hls(HLS_CONFIG);
    hls.on(Hls.Events.ERROR, onError);
    hls.attachMedia(video);
    hls.loadSource(playlistUrl);
    video.play().catch(() => {
      // Autoplay with sound refused: play muted, the viewer can unmute.
      video.muted = true;
      video.play().catch(() => {});
    });
    setStatus(`Watching ${name}`);
  }

  function onError(event, data) {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    // The playlist or a segment is gone or refused: the channel restarted,
    // stopped, or our token lapsed. Asking the server again restarts it if
    // needed and gives a fresh token; the new playlist's discontinuity lets
    // hls.js carry on from the new timeline.
    setStatus("Reconnecting…");
    scheduleRewatch();
  }

  function scheduleRewatch() {
    const mine = generation;
    const channel = channels.find((c) => c.id === session?.channel_id);
    // A fatal error and a refused heartbeat may both ask: one retry is enough.
    if (!channel || rewatchPending) return;
    rewatchPending = true;
    setTimeout(async () => {
      rewatchPending = false;
      if (mine !== generation) return;
      try {
        const answer = await post(channel.watch_url);
        if (mine !== generation) return leaveSession(answer);
        leaveSession(session);
        startSession(answer);
        attach(answer.playlist_url, channel.name);
        rewatchDelay = REWATCH_FIRST_DELAY_MS;
      } catch (error) {
        rewatchDelay = Math.min(rewatchDelay * 2, REWATCH_MAX_DELAY_MS);
        scheduleRewatch();
      }
    }, rewatchDelay);
  }

  let lastTime = -1;
  let frozenSince = null;

  function checkStall() {
    if (!session || !hls || video.paused) {
      frozenSince = null;
      return;
    }
    if (video.currentTime !== lastTime) {
      lastTime = video.currentTime;
      frozenSince = null;
    } else if (frozenSince === null) {
      frozenSince = performance.now();
    } else if (performance.now() - frozenSince > STALL_LIMIT_MS) {
      frozenSince = null;
      setStatus("Reconnecting…");
      scheduleRewatch();
    }
  }

  // --- session: heartbeats and leaving ---------------------------------------

  function startSession(answer) {
    session = answer;
    clearInterval(heartbeatTimer);
    heartbeatTimer = setInterval(heartbeat, answer.heartbeat_seconds * 1000);
  }

  async function heartbeat() {
    if (!session) return;
    const current = session;
    try {
      const answer = await post(current.heartbeat_url);
      if (session === current) session = answer;
    } catch (error) {
      // The session ended on the server (it went idle, e.g. after sleep):
      // start a new one rather than play on without being counted.
      if (error.status === 404 && session === current) scheduleRewatch();
    }
  }

  function leave() {
    clearInterval(heartbeatTimer);
    if (hls) {
      hls.destroy();
      hls = null;
    }
    if (session) leaveSession(session);
    session = null;
  }

  function leaveSession(answer) {
    // A beacon still goes out while the page unloads; fetch might not.
    const form = new FormData();
    form.append("csrfmiddlewaretoken", csrfToken);
    navigator.sendBeacon(answer.leave_url, form);
  }

  window.addEventListener("pagehide", leave);

  if (!window.Hls || !Hls.isSupported()) {
    setStatus("This browser cannot play HLS with Media Source Extensions.");
  }
  refreshList();
  setInterval(refreshList, LIST_REFRESH_MS);
  setInterval(checkStall, STALL_CHECK_MS);
})();
