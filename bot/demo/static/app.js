// The demo's Slack client: draws what the bot sent (Block Kit, mrkdwn, modals, the Home
// tab) and turns clicks, selects, submits and slash commands into calls to the demo server,
// which sends them to the bot as Slack would. No framework, no build step.
"use strict";

const S = {
  dir: null, user: null, conv: null, thread: null, version: -1, state: null,
  errors: {}, // view_id -> {block_id: message}
  drafts: {}, // view_id -> values typed so far (kept across redraws)
  seen: {}, // channel -> number of messages seen (for unread counts)
};

const $ = (sel, root = document) => root.querySelector(sel);
const h = (tag, attrs = {}, ...kids) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "html") el.innerHTML = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
};

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, opts);
  if (!res.ok) { toast(`${path}: HTTP ${res.status}`); throw new Error(path); }
  return res.json();
}

function toast(text) {
  const t = $("#toast"); t.textContent = text; t.hidden = false;
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

// ----- people, channels --------------------------------------------------------------
const person = (id) => (S.dir.people.find((p) => p.id === id) || { id, name: id });
const channel = (id) => (S.dir.channels.find((c) => c.id === id) || { id, name: id });
const dm = (userId) => "D" + userId.slice(1);
const initials = (name) => name.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();

// ----- mrkdwn (https://api.slack.com/reference/surfaces/formatting) --------------------
const EMOJI = {
  white_check_mark: "✅", warning: "⚠️", rotating_light: "🚨", tada: "🎉", palm_tree: "🌴",
  hourglass_flowing_sand: "⏳", hourglass: "⌛", bell: "🔔", sunrise: "🌅", red_circle: "🔴",
  eyes: "👀", calendar: "📅", busts_in_silhouette: "👥", arrow_up: "⬆️", arrow_right: "➡️",
  large_green_circle: "🟢", large_yellow_circle: "🟡", white_circle: "⚪", trophy: "🏆", memo: "📝",
  lock: "🔒", handshake: "🤝", dart: "🎯", alarm_clock: "⏰", x: "❌", weary: "😩",
  first_place_medal: "🥇", second_place_medal: "🥈", third_place_medal: "🥉", "star-struck": "🤩",
  small_red_triangle_down: "🔻", small_red_triangle: "🔺", slightly_smiling_face: "🙂",
  slightly_frowning_face: "🙁", neutral_face: "😐", chart: "💹", chart_with_upwards_trend: "📈",
  clipboard: "📋", bulb: "💡", star: "⭐", heart: "❤️", raised_hands: "🙌", clap: "👏", "+1": "👍",
  thumbsup: "👍", speech_balloon: "💬", pushpin: "📌", information_source: "ℹ️", question: "❓",
};

function fmtDate(epoch, format, fallback) {
  const d = new Date(Number(epoch) * 1000);
  if (isNaN(d)) return fallback;
  const date = d.toLocaleDateString("en-US", { month: "long", day: "numeric", year: "numeric" });
  const short = d.toLocaleDateString("en-US", { month: "short", day: "numeric", year: "numeric" });
  const time = d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" });
  return format
    .replace("{date_short_pretty}", short).replace("{date_long_pretty}", date)
    .replace("{date_pretty}", date).replace("{date_short}", short).replace("{date_long}", date)
    .replace("{date_num}", d.toISOString().slice(0, 10)).replace("{date}", date)
    .replace("{time_secs}", d.toLocaleTimeString("en-US")).replace("{time}", time);
}

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function token(inner) {
  // inner is what sits between < and >, still with Slack's &amp; &lt; &gt; escapes
  const bar = inner.indexOf("|");
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? null : inner.slice(bar + 1);
  if (target.startsWith("@")) {
    const id = target.slice(1);
    const me = id === S.user ? " me" : "";
    return `<span class="mention${me}" data-user="${esc(id)}">@${esc(person(id).name)}</span>`;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return `<a href="#" class="mention" data-channel="${esc(id)}">#${esc(label || channel(id).name)}</a>`;
  }
  if (target.startsWith("!")) {
    const cmd = target.slice(1);
    if (cmd.startsWith("date^")) {
      const [, epoch, format] = cmd.split("^");
      return esc(fmtDate(epoch, decodeEntities(format || "{date}"), decodeEntities(label || "")));
    }
    if (cmd.startsWith("subteam^")) return `<span class="mention">${label ? label : "@group"}</span>`;
    return `<span class="mention">@${esc(cmd)}</span>`;
  }
  const url = decodeEntities(target);
  if (!/^(https?:|mailto:)/.test(url)) return label || target;
  return `<a href="${esc(url)}" target="_blank" rel="noopener noreferrer">${label ? label : esc(url)}</a>`;
}

function decodeEntities(s) { return String(s).replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"); }

function inline(s) {
  // s is HTML-safe already (entities kept); apply *bold* _italic_ ~strike~ `code` :emoji:
  const codes = [];
  s = s.replace(/`([^`\n]+)`/g, (_, c) => { codes.push(c); return `\u0000${codes.length - 1}\u0000`; });
  s = s.replace(/(^|[\s(\u2018\u201c>])\*(?!\s)([^*\n]+?)\*(?=$|[\s).,;:!?'\u2019\u201d<])/g, "$1<b>$2</b>");
  s = s.replace(/(^|[\s(\u2018\u201c>])_(?!\s)([^_\n]+?)_(?=$|[\s).,;:!?'\u2019\u201d<])/g, "$1<i>$2</i>");
  s = s.replace(/(^|[\s(>])~(?!\s)([^~\n]+?)~(?=$|[\s).,;:!?<])/g, "$1<s>$2</s>");
  s = s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => `<code>${codes[Number(i)]}</code>`);
}

function mrkdwn(text) {
  text = String(text || "");
  // tokens first, so their insides are not formatted; the rest stays entity-escaped text
  const tokens = [];
  text = text.replace(/<([^<>]+)>/g, (_, inner) => { tokens.push(token(inner)); return `\u0001${tokens.length - 1}\u0001`; });
  // what is left is text: Slack's own escapes stay, anything else that HTML would read is escaped
  text = text.replace(/&(?!(amp|lt|gt|quot|#\d+);)/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const blocks = [];
  text = text.replace(/```([\s\S]*?)```/g, (_, c) => { blocks.push(`<pre>${c.replace(/^\n/, "")}</pre>`); return `\u0002${blocks.length - 1}\u0002`; });
  const lines = text.split("\n");
  const out = [];
  let list = null;
  let quote = [];
  const flushQuote = () => { if (quote.length) { out.push(`<blockquote>${quote.map(inline).join("<br>")}</blockquote>`); quote = []; } };
  const flushList = () => { if (list) { out.push(`<${list.tag}>${list.items.map((i) => `<li>${inline(i)}</li>`).join("")}</${list.tag}>`); list = null; } };
  for (const line of lines) {
    const q = line.match(/^&gt;\s?(.*)$/);
    const bullet = line.match(/^\s*[•\-◦▪]\s+(.*)$/);
    const number = line.match(/^\s*\d+[.)]\s+(.*)$/);
    if (q) { flushList(); quote.push(q[1]); continue; }
    flushQuote();
    if (bullet || number) {
      const tag = bullet ? "ul" : "ol";
      if (!list || list.tag !== tag) { flushList(); list = { tag, items: [] }; }
      list.items.push((bullet || number)[1]);
      continue;
    }
    flushList();
    out.push(inline(line) + "<br>");
  }
  flushQuote(); flushList();
  let html = out.join("").replace(/(<br>)+$/, "");
  html = html.replace(/\u0002(\d+)\u0002/g, (_, i) => blocks[Number(i)]);
  return html.replace(/\u0001(\d+)\u0001/g, (_, i) => tokens[Number(i)]);
}

function textObj(t) {
  if (!t) return h("span");
  if (t.type === "mrkdwn") return h("span", { class: "mrkdwn", html: mrkdwn(t.text) });
  return h("span", {}, decodeEntities(t.text || "").replace(/:([a-z0-9_+-]+):/g, (m, n) => (t.emoji !== false && EMOJI[n]) || m));
}
const emojify = (s) => String(s || "").replace(/:([a-z0-9_+-]+):/g, (m, n) => EMOJI[n] || m);
const plainText = (t) => (t ? (t.type === "mrkdwn" ? decodeEntities(t.text) : emojify(t.text)) : "");

// ----- Block Kit (https://api.slack.com/reference/block-kit/blocks) -----------------------
// ctx: {surface: "message"|"modal"|"home", channel, ts, viewId}
function renderBlocks(blocks, ctx) {
  return h("div", { class: "blocks" }, (blocks || []).map((b, i) => renderBlock(b, i, ctx)));
}

function renderBlock(b, i, ctx) {
  const blockId = b.block_id || `b${i}`;
  switch (b.type) {
    case "header": return h("div", { class: "blk blk-header" }, textObj(b.text));
    case "divider": return h("hr", { class: "blk-divider" });
    case "context": return h("div", { class: "blk blk-context" }, (b.elements || []).map((e) =>
      e.type === "image" ? h("img", { src: e.image_url, alt: e.alt_text || "" }) : textObj(e)));
    case "image": return h("figure", { class: "blk blk-image" },
      b.title ? h("div", { class: "title" }, plainText(b.title)) : null,
      h("img", { src: b.image_url || (b.slack_file && b.slack_file.url), alt: b.alt_text || "" }));
    case "section": {
      const main = h("div", { class: "section-main" },
        b.text ? textObj(b.text) : null,
        b.fields ? h("div", { class: "fields" }, b.fields.map(textObj)) : null);
      return h("div", { class: "blk blk-section", "data-block": blockId }, main,
        b.accessory ? h("div", { class: "accessory" }, renderElement(b.accessory, blockId, ctx, false)) : null);
    }
    case "actions": return h("div", { class: "blk blk-actions", "data-block": blockId },
      (b.elements || []).map((e) => renderElement(e, blockId, ctx, false)));
    case "input": return renderInput(b, blockId, ctx);
    default: return h("div", { class: "blk" }, `[${b.type} block]`);
  }
}

function renderInput(b, blockId, ctx) {
  const err = (S.errors[ctx.viewId] || {})[blockId];
  const id = `in-${ctx.viewId}-${blockId}`;
  return h("div", { class: "blk blk-input" + (err ? " has-error" : ""), "data-block": blockId, "data-required": !b.optional },
    h("label", { class: "lbl", for: id }, plainText(b.label), b.optional ? h("span", { class: "optional" }, " (optional)") : null),
    renderElement(b.element, blockId, ctx, true, id),
    b.hint ? h("div", { class: "hint" }, plainText(b.hint)) : null,
    err ? h("div", { class: "error", role: "alert" }, err) : null);
}

// Elements: in an input block they only hold a value (sent with the submission); elsewhere
// a change is a block_actions interaction at once.
function renderElement(e, blockId, ctx, isInput, domId) {
  const actionId = e.action_id || `a-${blockId}`;
  const draft = ((S.drafts[ctx.viewId] || {})[blockId] || {})[actionId];
  const fire = (action) => interact(ctx, { ...action, action_id: actionId, block_id: blockId });
  const tag = { "data-action": actionId, "data-type": e.type, "data-block": blockId };
  const keep = (state) => {
    if (!ctx.viewId) return;
    S.drafts[ctx.viewId] = S.drafts[ctx.viewId] || {};
    S.drafts[ctx.viewId][blockId] = { [actionId]: state };
  };
  switch (e.type) {
    case "button": {
      const btn = h("button", { class: "btn" + (e.style ? " " + e.style : ""), type: "button", ...tag,
        onclick: (ev) => {
          if (e.url) window.open(e.url, "_blank", "noopener");
          ev.target.disabled = true; setTimeout(() => { ev.target.disabled = false; }, 800);
          fire({ type: "button", value: e.value || "", text: e.text });
        } }, textObj(e.text));
      return btn;
    }
    case "overflow": {
      const wrap = h("span", { class: "overflow" });
      const menu = h("div", { class: "overflow-menu", hidden: true }, (e.options || []).map((o) =>
        h("button", { type: "button", onclick: () => { menu.hidden = true; fire({ type: "overflow", selected_option: o }); } }, plainText(o.text))));
      wrap.append(h("button", { class: "btn", type: "button", "aria-label": "More actions", ...tag, onclick: () => { menu.hidden = !menu.hidden; } }, "⋯"), menu);
      return wrap;
    }
    case "static_select": case "external_select": case "multi_static_select": {
      const options = [...(e.options || []), ...((e.option_groups || []).flatMap((g) => g.options))];
      const multi = e.type.startsWith("multi");
      const sel = h("select", { class: "el", id: domId, ...tag, multiple: multi },
        multi ? null : h("option", { value: "" }, e.placeholder ? plainText(e.placeholder) : "Select an option"),
        options.map((o) => h("option", { value: o.value }, plainText(o.text))));
      const initial = draft ? (draft.selected_option || {}).value : (e.initial_option || {}).value;
      if (initial) sel.value = initial;
      if (multi) for (const opt of sel.options) opt.selected = (e.initial_options || []).some((o) => o.value === opt.value);
      sel._state = () => {
        if (multi) return { type: e.type, selected_options: options.filter((o) => [...sel.selectedOptions].some((s) => s.value === o.value)) };
        const o = options.find((x) => x.value === sel.value);
        return { type: e.type, selected_option: o || null };
      };
      sel.addEventListener("change", () => { keep(sel._state()); if (!isInput || e.dispatch_action) fire(sel._state()); });
      return sel;
    }
    case "users_select": case "multi_users_select": case "conversations_select": case "channels_select": case "multi_conversations_select": {
      const users = e.type.includes("users");
      const multi = e.type.startsWith("multi");
      const items = users ? S.dir.people.map((p) => [p.id, p.name]) : S.dir.channels.map((c) => [c.id, "#" + c.name]);
      const sel = h("select", { class: "el", id: domId, ...tag, multiple: multi },
        multi ? null : h("option", { value: "" }, e.placeholder ? plainText(e.placeholder) : (users ? "Select a person" : "Select a channel")),
        items.map(([v, label]) => h("option", { value: v }, label)));
      const key = users ? (multi ? "selected_users" : "selected_user") : (e.type === "channels_select" ? "selected_channel" : (multi ? "selected_conversations" : "selected_conversation"));
      const initial = draft ? draft[key] : (e.initial_user || e.initial_conversation || e.initial_channel);
      if (initial && !multi) sel.value = initial;
      if (multi) for (const opt of sel.options) opt.selected = (e.initial_users || e.initial_conversations || []).includes(opt.value);
      sel._state = () => ({ type: e.type, [key]: multi ? [...sel.selectedOptions].map((o) => o.value) : (sel.value || null) });
      sel.addEventListener("change", () => { keep(sel._state()); if (!isInput || e.dispatch_action) fire(sel._state()); });
      return sel;
    }
    case "datepicker": case "timepicker": {
      const date = e.type === "datepicker";
      const inp = h("input", { class: "el", id: domId, type: date ? "date" : "time", ...tag });
      inp.value = draft ? (draft.selected_date || draft.selected_time || "") : (e.initial_date || e.initial_time || "");
      inp._state = () => (date ? { type: e.type, selected_date: inp.value || null } : { type: e.type, selected_time: inp.value || null });
      inp.addEventListener("change", () => { keep(inp._state()); if (!isInput || e.dispatch_action) fire(inp._state()); });
      return inp;
    }
    case "checkboxes": case "radio_buttons": {
      const box = e.type === "checkboxes";
      const name = `${ctx.viewId || ctx.ts}-${blockId}-${actionId}`;
      const picked = draft ? (box ? (draft.selected_options || []) : [draft.selected_option].filter(Boolean))
        : (box ? (e.initial_options || []) : [e.initial_option].filter(Boolean));
      const wrap = h("div", { class: "choices", id: domId, ...tag }, (e.options || []).map((o) => h("label", {},
        h("input", { type: box ? "checkbox" : "radio", name, value: o.value, checked: picked.some((p) => p.value === o.value) }),
        " ", textObj(o.text), o.description ? h("div", { class: "hint" }, plainText(o.description)) : null)));
      wrap._state = () => {
        const on = [...wrap.querySelectorAll("input:checked")].map((i) => e.options.find((o) => o.value === i.value));
        return box ? { type: e.type, selected_options: on } : { type: e.type, selected_option: on[0] || null };
      };
      wrap.addEventListener("change", () => { keep(wrap._state()); if (!isInput || e.dispatch_action) fire(wrap._state()); });
      return wrap;
    }
    case "plain_text_input": case "number_input": case "email_text_input": case "url_text_input": {
      const multi = e.multiline;
      const attrs = { class: "el text", id: domId, ...tag, placeholder: e.placeholder ? plainText(e.placeholder) : null,
        maxlength: e.max_length || null, type: multi ? null : ({ number_input: "number", email_text_input: "email", url_text_input: "url" }[e.type] || "text") };
      const inp = multi ? h("textarea", attrs) : h("input", attrs);
      inp.value = draft ? (draft.value || "") : (e.initial_value || "");
      inp._state = () => ({ type: e.type, value: inp.value === "" ? null : inp.value });
      inp.addEventListener("input", () => keep(inp._state()));
      return inp;
    }
    case "image": return h("img", { class: "acc-img", src: e.image_url, alt: e.alt_text || "", width: 72 });
    default: return h("span", {}, `[${e.type}]`);
  }
}

function viewState(root) {
  const values = {};
  for (const el of root.querySelectorAll(".blk-input [data-action]")) {
    if (!el._state) continue;
    values[el.dataset.block] = { [el.dataset.action]: el._state() };
  }
  return { values };
}

async function interact(ctx, action) {
  const body = { user: S.user, action, surface: ctx.surface };
  if (ctx.surface === "modal") {
    body.view_id = ctx.viewId;
    body.state = viewState($(`.modal[data-view="${ctx.viewId}"]`));
  } else if (ctx.surface === "message") {
    body.channel = ctx.channel; body.ts = ctx.ts;
  }
  await api("/api/action", body);
}

// ----- messages -----------------------------------------------------------------------
function renderMessage(m, inThread) {
  const bot = m.user === S.dir.bot.id;
  const who = bot ? S.dir.bot.name : person(m.user).name;
  const when = new Date(m.at);
  const ctx = { surface: "message", channel: m.channel, ts: m.ts };
  const body = h("div", { class: "body" },
    h("div", { class: "meta" }, h("b", {}, who), bot ? h("span", { class: "app" }, "APP") : null,
      m.only_for ? null : h("time", {}, isNaN(when) ? "" : when.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }))),
    m.only_for ? h("div", { class: "only-you" }, "Only visible to you") : null,
    m.blocks && m.blocks.length ? renderBlocks(m.blocks, ctx) : (m.text ? h("div", { class: "mrkdwn", html: mrkdwn(m.text) }) : null),
    (m.files || []).map((f) => h("figure", { class: "file" }, h("div", { class: "title" }, f.title), h("img", { src: f.url, alt: f.title }))),
    m.edited && !bot ? h("span", { class: "edited" }, "(edited)") : null,
    !inThread && m.reply_count ? h("button", { class: "replies", type: "button", onclick: () => openThread(m.channel, m.ts) },
      `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`) : null);
  const menu = !m.only_for ? h("div", { class: "msg-menu" },
    !inThread ? h("button", { type: "button", title: "Reply in thread", onclick: () => openThread(m.channel, m.ts) }, "💬 Thread") : null,
    h("button", { type: "button", title: "Message shortcut", onclick: () => shortcut(m) }, "⋯ Log coaching note")) : null;
  return h("div", { class: "msg" + (m.only_for ? " ephemeral" : ""), "data-ts": m.ts, "data-channel": m.channel },
    h("div", { class: "avatar" + (bot ? " bot" : "") }, bot ? "sb" : initials(who)), body, menu);
}

async function shortcut(m) {
  await api("/api/shortcut", { user: S.user, callback_id: "coaching.log_note", channel: m.channel, ts: m.ts });
}

function convMessages(conv) {
  const msgs = S.state.messages.filter((m) => m.channel === conv && !m.thread_ts);
  return msgs;
}

function drawConversation() {
  const list = $("#messages");
  const home = $("#home");
  const composer = $("#composer");
  if (S.conv === "home") {
    list.hidden = true; home.hidden = false; composer.hidden = true;
    $("#conv-title").textContent = "supportbot"; $("#conv-topic").textContent = "Home";
    home.replaceChildren(S.state.home ? renderBlocks(S.state.home.blocks, { surface: "home", viewId: S.state.home.id }) : h("div", { class: "empty" }, "Opening the Home tab…"));
    return;
  }
  list.hidden = false; home.hidden = true; composer.hidden = false;
  const conv = S.conv === "dm" ? dm(S.user) : S.conv;
  $("#conv-title").textContent = S.conv === "dm" ? "supportbot" : "#" + channel(conv).name;
  $("#conv-topic").textContent = S.conv === "dm" ? "Messages with the app" : topic(conv);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const msgs = convMessages(conv);
  list.replaceChildren(...(msgs.length ? msgs.map((m) => renderMessage(m, false)) : [h("div", { class: "empty" }, "Nothing here yet.")]));
  if (atBottom || S.scrollDown) { list.scrollTop = list.scrollHeight; S.scrollDown = false; }
  S.seen[conv] = msgs.length;
}

function topic(id) {
  for (const t of S.dir.teams) {
    const i = t.channels.indexOf(id);
    if (i >= 0) return `${t.name} · ${["team channel", "escalations", "KPI digest"][i]}`;
  }
  return "";
}

function drawThread() {
  const pane = $("#thread");
  if (!S.thread) { pane.hidden = true; return; }
  const [ch, ts] = S.thread;
  const parent = S.state.messages.find((m) => m.channel === ch && m.ts === ts);
  const replies = S.state.messages.filter((m) => m.channel === ch && m.thread_ts === ts);
  pane.hidden = false;
  $("#thread-messages").replaceChildren(...[parent, ...replies].filter(Boolean).map((m) => renderMessage(m, true)));
}

function openThread(ch, ts) { S.thread = [ch, ts]; drawThread(); }

function drawModals() {
  const root = $("#modal-root");
  const modals = S.state.modals || [];
  const top = modals[modals.length - 1];
  if (!top) { root.replaceChildren(); return; }
  const existing = root.querySelector(".modal");
  if (existing && existing.dataset.view === top.id && existing.dataset.hash === JSON.stringify([top.blocks, S.errors[top.id]]).length + ":" + (top.title || {}).text) return;
  const ctx = { surface: "modal", viewId: top.id };
  const form = h("div", { class: "modal", role: "dialog", "aria-modal": "true", "data-view": top.id, "aria-label": plainText(top.title) },
    h("header", {}, h("span", {}, plainText(top.title)), h("button", { type: "button", "aria-label": "Close", onclick: () => closeModal(top.id) }, "✕")),
    h("div", { class: "body" }, renderBlocks(top.blocks, ctx)),
    h("footer", {},
      h("button", { class: "btn", type: "button", onclick: () => closeModal(top.id) }, top.close ? plainText(top.close) : "Cancel"),
      top.submit ? h("button", { class: "btn primary", type: "button", "data-submit": "1", onclick: () => submitModal(top.id) }, plainText(top.submit)) : null));
  form.dataset.hash = JSON.stringify([top.blocks, S.errors[top.id]]).length + ":" + (top.title || {}).text;
  root.replaceChildren(h("div", { class: "modal-backdrop" }, form));
}

function missingRequired(modal, state) {
  // Slack's client refuses to send a modal with an empty required input
  const errors = {};
  for (const blk of modal.querySelectorAll(".blk-input[data-required]")) {
    const id = blk.dataset.block;
    const value = Object.values(state.values[id] || {})[0] || {};
    const filled = Object.entries(value).some(([k, v]) => k !== "type" && v !== null && v !== "" && !(Array.isArray(v) && !v.length));
    if (!filled) errors[id] = "Please complete this required field.";
  }
  return errors;
}

async function submitModal(viewId) {
  const modal = $(`.modal[data-view="${viewId}"]`);
  const state = viewState(modal);
  const missing = missingRequired(modal, state);
  if (Object.keys(missing).length) {
    S.errors[viewId] = missing;
    $("#modal-root").replaceChildren(); drawModals();
    return;
  }
  const res = await api("/api/submit", { user: S.user, view_id: viewId, state });
  S.errors[viewId] = res.errors || {};
  if (Object.keys(S.errors[viewId]).length) {
    const root = $("#modal-root"); root.replaceChildren(); drawModals();
  } else {
    delete S.drafts[viewId];
  }
}

async function closeModal(viewId) {
  delete S.drafts[viewId]; delete S.errors[viewId];
  await api("/api/close", { user: S.user, view_id: viewId });
}

// ----- sidebar ---------------------------------------------------------------------------
function drawSidebar() {
  const ul = $("#channels");
  ul.replaceChildren(...S.dir.channels.map((c) => {
    const n = S.state ? S.state.messages.filter((m) => m.channel === c.id && !m.thread_ts).length : 0;
    const unread = S.conv !== c.id && S.seen[c.id] !== undefined && n > S.seen[c.id] ? n - S.seen[c.id] : 0;
    return h("li", {}, h("a", { href: "#", class: S.conv === c.id ? "active" : "", "data-conv": c.id, onclick: (ev) => { ev.preventDefault(); go(c.id); } },
      "# " + c.name, unread ? h("span", { class: "unread" }, unread) : null));
  }));
  $("#nav-home").className = S.conv === "home" ? "active" : "";
  $("#nav-dm").className = S.conv === "dm" ? "active" : "";
  if (S.state) {
    $("#now").textContent = new Date(S.state.now).toLocaleString("en-US", { weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" });
    for (const c of S.dir.channels) if (S.seen[c.id] === undefined) S.seen[c.id] = S.state.messages.filter((m) => m.channel === c.id && !m.thread_ts).length;
  }
}

function go(conv) {
  S.conv = conv; S.thread = null; S.scrollDown = true;
  if (conv === "home") api("/api/home", { user: S.user });
  draw();
}

function draw() {
  if (!S.state) return;
  drawSidebar(); drawConversation(); drawThread(); drawModals();
}

// ----- polling ----------------------------------------------------------------------------
async function refresh(wait) {
  const since = wait ? `&since=${S.version}` : "";
  const state = await api(`/api/state?user=${encodeURIComponent(S.user)}${since}`);
  if (state.version === S.version && S.state) { S.state.now = state.now; drawSidebar(); return; }
  S.version = state.version; S.state = state;
  draw();
}

async function poll() {
  for (;;) {
    const user = S.user;
    try { await refresh(true); } catch (err) { await new Promise((r) => setTimeout(r, 1000)); }
    if (user !== S.user) continue;
  }
}

// ----- start ------------------------------------------------------------------------------
async function start() {
  S.dir = await api("/api/directory");
  const who = $("#who");
  for (const p of S.dir.people) who.append(h("option", { value: p.id }, `${p.name} — ${p.role}`));
  const params = new URLSearchParams(location.search);
  S.user = params.get("as") || S.dir.people[0].id;
  who.value = S.user;
  $("#who-role").textContent = person(S.user).role;
  who.addEventListener("change", async () => {
    S.user = who.value; S.version = -1; S.errors = {}; S.drafts = {};
    $("#who-role").textContent = person(S.user).role;
    if (S.conv === "home") api("/api/home", { user: S.user });
    await refresh(false);
  });
  $("#command-list").append(...S.dir.commands.map((c) => h("option", { value: c + " " })));
  S.conv = params.get("channel") || S.dir.teams[0].channels[1];
  $("#nav-home").addEventListener("click", (ev) => { ev.preventDefault(); go("home"); });
  $("#nav-dm").addEventListener("click", (ev) => { ev.preventDefault(); go("dm"); });
  $("#thread-close").addEventListener("click", () => { S.thread = null; drawThread(); });
  $("#messages").addEventListener("click", (ev) => {
    const a = ev.target.closest("a[data-channel]");
    if (a) { ev.preventDefault(); if (S.dir.channels.some((c) => c.id === a.dataset.channel)) go(a.dataset.channel); }
  });
  $("#composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("#compose");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const conv = S.conv === "dm" ? dm(S.user) : S.conv;
    S.scrollDown = true;
    await api("/api/command", { user: S.user, channel: conv, text });
  });
  for (const btn of document.querySelectorAll("#time button")) {
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        const res = await api("/api/time", { what: btn.dataset.what, user: S.user });
        $("#time-note").textContent = res.text;
        if (res.channel) go(res.channel.startsWith("D") ? "dm" : res.channel);
      } finally { btn.disabled = false; }
    });
  }
  await refresh(false);
  poll();
}

start();
