// The course dashboard: everything through /graphql with the project's own operations,
// refreshed when the eventAppended subscription (graphql-transport-ws) reports an event
// of the course. No build step; Chart.js comes from the app's own asset route.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("dashboard-config").textContent);
  var TOKEN_KEY = "coursegraph.apiToken";
  var DAY_MS = 86400000;
  var COURSES = "query DashboardCourses($after: String) { courses(first: 500, after: $after) " +
    "{ pageInfo { hasNextPage endCursor } nodes { id courseNumber name } } }";
  var EVENTS = "subscription CourseEvents($courseId: ID) { eventAppended(filter: {courseId: $courseId}) " +
    "{ position type action eventTime } }";

  // What the page has done, for whoever watches it (the browser test does).
  var state = (window.dashboard = {
    ready: false,
    refreshes: 0,
    eventsSeen: 0,
    lastPosition: null,
    live: false,
    error: null,
    data: null,
  });

  var $ = function (id) { return document.getElementById(id); };
  var charts = {};

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function showNotice(text) {
    var notice = $("notice");
    notice.textContent = text;
    notice.hidden = false;
  }

  function askForToken(message) {
    $("picker").hidden = true;
    $("course").hidden = true;
    $("token-form").hidden = false;
    $("token-error").textContent = message || "";
    $("token-input").focus();
  }

  $("token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var value = $("token-input").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    location.reload();
  });

  function NeedsToken(message) { this.message = message; }

  // One GraphQL request; the token, when the server wants one, as GraphiQL sends it.
  function gql(query, variables, operationName) {
    var headers = { "content-type": "application/json", accept: "application/json" };
    if (token()) headers.authorization = "Bearer " + token();
    return fetch(config.graphql, {
      method: "POST",
      headers: headers,
      body: JSON.stringify({ query: query, variables: variables || {}, operationName: operationName }),
    }).then(function (response) {
      if (response.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        throw new NeedsToken(token() ? "That token was refused." : "");
      }
      return response.json().then(function (body) {
        if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
        return body.data;
      });
    });
  }

  function operation(name, variables) {
    return gql(config.operations[name], variables, name);
  }

  // Every page of a connection at `path` (e.g. ["course", "participants"]).
  function allPages(run, path, variables) {
    var nodes = [];
    function page(after) {
      return run(Object.assign({}, variables, { after: after })).then(function (data) {
        var connection = path.reduce(function (value, key) { return value && value[key]; }, data);
        if (!connection) return { data: data, nodes: nodes };
        nodes = nodes.concat(connection.nodes);
        if (connection.pageInfo.hasNextPage) return page(connection.pageInfo.endCursor);
        return { data: data, nodes: nodes };
      });
    }
    return page(null);
  }

  // --- formatting -------------------------------------------------------------------

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") node.textContent = attributes[key];
      else if (key === "className") node.className = attributes[key];
      else node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function day(iso) { return iso ? iso.slice(0, 10) : "—"; }
  function when(iso) { return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : "—"; }
  function number(value, digits) {
    if (value === null || value === undefined) return "—";
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits });
  }
  function percent(grade) {
    if (!grade || grade.score === null || grade.score === undefined) return null;
    if (!grade.scorePossible) return grade.score;
    return (100 * grade.score) / grade.scorePossible;
  }

  // --- the course picker ------------------------------------------------------------

  function showPicker() {
    $("picker").hidden = false;
    $("live").hidden = true;  // the picker has nothing to keep live
    allPages(function (v) { return gql(COURSES, v, "DashboardCourses"); }, ["courses"], {})
      .then(function (result) {
        var courses = result.nodes.slice().sort(function (a, b) {
          return (a.courseNumber || "").localeCompare(b.courseNumber || "") || a.id.localeCompare(b.id);
        });
        var list = $("course-list");
        function render(filter) {
          list.textContent = "";
          courses
            .filter(function (c) {
              var text = ((c.courseNumber || "") + " " + (c.name || "")).toLowerCase();
              return text.indexOf(filter.toLowerCase()) >= 0;
            })
            .forEach(function (c) {
              list.appendChild(
                el("a", { className: "course-card", href: "/dashboard?course=" + encodeURIComponent(c.id) }, [
                  el("div", { className: "number", text: c.courseNumber || "(no number)" }),
                  el("div", { className: "name", text: c.name || "" }),
                  el("div", { className: "id", text: c.id }),
                ]),
              );
            });
          if (!list.children.length) list.appendChild(el("p", { className: "empty", text: "No courses match." }));
        }
        render("");
        $("course-filter").addEventListener("input", function (event) { render(event.target.value); });
        state.courses = courses.length;
        state.ready = true;
      })
      .catch(failed);
  }

  // --- one course -------------------------------------------------------------------

  var courseId = new URLSearchParams(location.search).get("course");
  var sortKey = "lastActivityAt";
  var sortDescending = false;  // the longest idle first: who is falling behind

  function loadCourse() {
    return Promise.all([
      operation("CourseActivity", { id: courseId }),
      allPages(function (v) { return operation("AtRiskStudents", v); }, ["course", "participants"], {
        id: courseId, orderBy: "LAST_ACTIVITY_DESC", first: 1000,
      }),
      allPages(function (v) { return operation("ItemStatistics", v); }, ["course", "gradableItems"], {
        id: courseId, bins: 10,
      }),
    ]).then(function (answers) {
      var course = answers[0].course;
      if (!course) throw new Error("No course has the id " + courseId + ".");
      return {
        course: course,
        participants: answers[1].nodes,
        items: answers[2].nodes,
      };
    });
  }

  function refresh() {
    return loadCourse().then(function (data) {
      state.data = data;
      render(data);
      state.refreshes += 1;
      state.ready = true;
    });
  }

  function render(data) {
    var course = data.course;
    document.title = (course.courseNumber || "course") + " · coursegraph dashboard";
    var title = $("course-title");
    title.textContent = "";
    title.appendChild(el("b", { text: course.courseNumber || "" }));
    title.appendChild(document.createTextNode(course.name || ""));
    renderTiles(data);
    renderActivity(course.activity);
    renderParticipants(data.participants);
    renderHistograms(data.items);
    renderViews(course.contentItems.nodes);
  }

  // Inactive: no event for N days before now, or before the course's last activity when
  // that was earlier (a past term).
  function referenceTime(participants) {
    var latest = participants.reduce(function (max, p) { return p.lastActivityAt > max ? p.lastActivityAt : max; }, "");
    return latest ? Math.min(Date.now(), Date.parse(latest)) : null;
  }
  function inactiveCutoff(participants) {
    var reference = referenceTime(participants);
    return reference === null ? null : reference - Number($("inactive-days").value) * DAY_MS;
  }

  function renderTiles(data) {
    var events = data.course.activity.reduce(function (sum, p) { return sum + p.events; }, 0);
    var cutoff = inactiveCutoff(data.participants);
    var inactive = data.participants.filter(function (p) { return Date.parse(p.lastActivityAt) < cutoff; });
    var grades = data.participants.map(function (p) { return percent(p.courseGrade); }).filter(function (g) { return g !== null; });
    var average = grades.length ? grades.reduce(function (a, b) { return a + b; }, 0) / grades.length : null;
    var tiles = [
      ["Events", number(events, 0), ""],
      ["Participants", number(data.participants.length, 0), ""],
      ["Inactive " + $("inactive-days").value + "+ days", number(inactive.length, 0), inactive.length ? "warn" : ""],
      ["Average course grade", average === null ? "—" : number(average) + "%", ""],
      ["Graded items", number(data.items.length, 0), ""],
    ];
    var box = $("tiles");
    box.textContent = "";
    tiles.forEach(function (t) {
      box.appendChild(el("div", { className: "tile" }, [
        el("div", { className: "label", text: t[0] }),
        el("div", { className: "value " + t[2], text: t[1] }),
      ]));
    });
  }

  function chart(id, canvas, settings) {
    if (typeof Chart === "undefined") return null;
    if (charts[id]) {
      charts[id].data = settings.data;
      charts[id].update("none");
      return charts[id];
    }
    charts[id] = new Chart(canvas, settings);
    return charts[id];
  }

  var GRID = { color: "#eef0f5" };

  function renderActivity(points) {
    chart("activity", $("activity-chart"), {
      data: {
        labels: points.map(function (p) { return day(p.start); }),
        datasets: [
          { type: "bar", label: "events", data: points.map(function (p) { return p.events; }),
            backgroundColor: "#3b6fd8cc", borderRadius: 2, yAxisID: "events", order: 2 },
          { type: "line", label: "active people", data: points.map(function (p) { return p.activeUsers; }),
            borderColor: "#f08a24", backgroundColor: "#f08a24", pointRadius: 0, borderWidth: 2,
            tension: 0.3, yAxisID: "users", order: 1 },
        ],
      },
      options: {
        animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: false } },
        scales: {
          x: { grid: { display: false }, ticks: { maxTicksLimit: 14, color: "#667085" } },
          events: { position: "left", beginAtZero: true, grid: GRID, title: { display: true, text: "events" } },
          users: { position: "right", beginAtZero: true, grid: { display: false }, title: { display: true, text: "active people" } },
        },
      },
    });
  }

  function sortValue(p, key) {
    if (key === "name") return (p.person.externalId || p.person.userId || p.person.id).toLowerCase();
    if (key === "grade") return percent(p.courseGrade);
    return p[key];
  }

  function renderParticipants(participants) {
    var cutoff = inactiveCutoff(participants);
    var onlyInactive = $("only-inactive").checked;
    var rows = participants.slice().sort(function (a, b) {
      var x = sortValue(a, sortKey), y = sortValue(b, sortKey);
      if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;  // blanks last
      if (y === null || y === undefined) return -1;
      var order = x < y ? -1 : x > y ? 1 : 0;
      return (sortDescending ? -order : order) || a.person.id.localeCompare(b.person.id);
    });
    var body = document.querySelector("#participants tbody");
    body.textContent = "";
    rows.forEach(function (p) {
      var inactive = cutoff !== null && Date.parse(p.lastActivityAt) < cutoff;
      if (onlyInactive && !inactive) return;
      var idle = Math.floor((referenceTime(participants) - Date.parse(p.lastActivityAt)) / DAY_MS);
      var grade = percent(p.courseGrade);
      var gradeCell = el("td", { className: "num" });
      if (grade !== null) {
        var bar = el("span", { className: "grade-bar" }, [el("i")]);
        bar.firstChild.style.width = Math.max(0, Math.min(100, grade)) + "%";
        gradeCell.appendChild(bar);
        gradeCell.appendChild(document.createTextNode(number(grade) + "%"));
      } else {
        gradeCell.textContent = "—";
      }
      var name = el("td", {}, [
        el("span", { text: p.person.externalId || p.person.userId || p.person.id }),
        el("span", { className: "person-id", text: p.person.userId || "" }),
        inactive ? el("span", { className: "badge", text: "inactive " + idle + "d" }) : null,
      ]);
      body.appendChild(el("tr", { className: inactive ? "inactive" : "" }, [
        name,
        el("td", { text: p.role || "—" }),
        el("td", { text: when(p.lastActivityAt) }),
        el("td", { className: "num", text: number(p.eventCount, 0) }),
        el("td", { className: "num", text: number(p.activeDays, 0) }),
        el("td", { className: "num", text: number(p.gradedAttempts, 0) }),
        gradeCell,
      ]));
    });
    if (!body.children.length) {
      body.appendChild(el("tr", {}, [el("td", { className: "empty", colspan: "7", text: "Nobody to show." })]));
    }
  }

  document.querySelectorAll("#participants th").forEach(function (th) {
    th.addEventListener("click", function () {
      var key = th.getAttribute("data-key");
      sortDescending = key === sortKey ? !sortDescending : key !== "name" && key !== "role";
      sortKey = key;
      document.querySelectorAll("#participants th").forEach(function (other) { other.className = other.className.replace(/ ?sorted|asc|desc/g, "").trim(); });
      th.className = (th.className + " sorted " + (sortDescending ? "desc" : "asc")).trim();
      if (state.data) renderParticipants(state.data.participants);
    });
  });
  ["inactive-days", "only-inactive"].forEach(function (id) {
    $(id).addEventListener("change", function () { if (state.data) { renderTiles(state.data); renderParticipants(state.data.participants); } });
  });

  function renderHistograms(items) {
    var box = $("histograms");
    var known = {};
    items.forEach(function (item, index) {
      var key = "histogram-" + index;
      known[key] = true;
      var card = box.querySelector('[data-item="' + CSS.escape(item.id) + '"]');
      var s = item.scoreStatistics;
      if (!card) {
        card = el("div", { className: "histogram", "data-item": item.id }, [
          el("h3", { text: (item.contentItem && item.contentItem.name) || "Item " + (item.learnId || item.id) }),
          el("div", { className: "stats" }),
          el("div", { className: "chart-box" }, [el("canvas", { id: key })]),
        ]);
        box.appendChild(card);
      }
      card.querySelector(".stats").textContent =
        s.count + " scored · mean " + number(s.mean) + " · median " + number(s.median) +
        " · sd " + number(s.stddev) + (item.maxScore ? " · out of " + number(item.maxScore) : "");
      chart(key, card.querySelector("canvas"), {
        type: "bar",
        data: {
          labels: s.histogram.map(function (b) { return number(b.from) + "–" + number(b.to); }),
          datasets: [{ label: "attempts", data: s.histogram.map(function (b) { return b.count; }),
            backgroundColor: "#3b6fd8", borderRadius: 3, categoryPercentage: 1, barPercentage: 0.92 }],
        },
        options: {
          animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
          scales: {
            x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 5, color: "#667085", font: { size: 10 } } },
            y: { beginAtZero: true, grid: GRID, ticks: { precision: 0, color: "#667085" } },
          },
        },
      });
    });
    if (!items.length && !box.children.length) box.appendChild(el("p", { className: "empty", text: "No graded items yet." }));
  }

  function renderViews(contentItems) {
    var least = contentItems
      .filter(function (c) { return c.handler !== "resource/x-bb-folder"; })
      .sort(function (a, b) {
        return a.viewStatistics.views - b.viewStatistics.views || (a.name || "").localeCompare(b.name || "");
      })
      .slice(0, 12);
    $("views-box").style.height = Math.max(160, 30 * least.length + 40) + "px";
    chart("views", $("views-chart"), {
      type: "bar",
      data: {
        labels: least.map(function (c) { return c.name || c.id; }),
        datasets: [
          { label: "views", data: least.map(function (c) { return c.viewStatistics.views; }), backgroundColor: "#f08a24", borderRadius: 3 },
          { label: "people", data: least.map(function (c) { return c.viewStatistics.uniqueViewers; }), backgroundColor: "#3b6fd8", borderRadius: 3 },
        ],
      },
      options: {
        indexAxis: "y", animation: false, maintainAspectRatio: false,
        plugins: { legend: { position: "bottom" } },
        scales: { x: { beginAtZero: true, grid: GRID, ticks: { precision: 0 } }, y: { grid: { display: false } } },
      },
    });
  }

  // --- live updates: a tiny graphql-transport-ws client -----------------------------

  var pending = null;
  function scheduleRefresh() {
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      refresh().catch(failed);
    }, 300);
  }

  function setLive(on) {
    state.live = on;
    $("live").setAttribute("data-state", on ? "on" : "off");
    $("live-text").textContent = on ? "live" : "reconnecting…";
  }

  function subscribe() {
    var url = location.origin.replace(/^http/, "ws") + config.graphql;
    var socket = new WebSocket(url, "graphql-transport-ws");
    socket.binaryType = "arraybuffer";  // some servers send the JSON in binary frames
    socket.onopen = function () {
      var payload = token() ? { Authorization: "Bearer " + token() } : {};
      socket.send(JSON.stringify({ type: "connection_init", payload: payload }));
    };
    socket.onmessage = function (message) {
      var data = typeof message.data === "string" ? message.data : new TextDecoder().decode(message.data);
      var frame = JSON.parse(data);
      if (frame.type === "connection_ack") {
        socket.send(JSON.stringify({ id: "course", type: "subscribe", payload: { query: EVENTS, variables: { courseId: courseId } } }));
        setLive(true);
      } else if (frame.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (frame.type === "next" && frame.payload && frame.payload.data) {
        state.eventsSeen += 1;
        state.lastPosition = frame.payload.data.eventAppended.position;
        scheduleRefresh();
      }
    };
    socket.onclose = function () {
      setLive(false);
      setTimeout(subscribe, 2000);
    };
  }

  // --- start ------------------------------------------------------------------------

  function failed(error) {
    if (error instanceof NeedsToken) return askForToken(error.message);
    state.error = String(error && error.message ? error.message : error);
    showNotice("The dashboard could not load: " + state.error);
  }

  if (typeof Chart === "undefined") {
    showNotice("The chart library is not installed on this server: run `make assets` in the coursegraph folder (needs npm), then reload. Tables still work.");
  }
  if (config.tokenRequired && !token()) {
    askForToken();
  } else if (courseId) {
    $("course").hidden = false;
    refresh().then(subscribe).catch(failed);
  } else {
    showPicker();
  }
})();
