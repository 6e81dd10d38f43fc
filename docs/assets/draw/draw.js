/* Draw a digit: the course's network, run in the browser in plain JavaScript.
 *
 * The weights come from `course export-web` (assets/draw/weights.json, written at build time):
 * W1 (784, 128), b1 (128,), W2 (128, 10), b2 (10,), float32, row-major, base64. The forward pass is
 * lesson 02's, and the drawing is prepared like MNIST's digits were:
 *   1. crop to the bounding box of the ink;
 *   2. scale it to fit a 20x20 box, keeping its aspect ratio (averaging the pixels each output
 *      pixel covers, which gives grey levels at the edges of the strokes);
 *   3. place it in a 28x28 field so that its centre of mass is at the centre;
 *   4. grey levels in [0, 1], 0 the background: the same x as lesson 01's preprocess_images.
 *
 * window.courseDraw exposes preprocess() and forward() so that the site's browser test can check
 * them against NumPy.
 */
(function () {
  "use strict";

  const SCRIPT_URL = document.currentScript ? document.currentScript.src : document.baseURI;
  const SIDE = 28;   // MNIST images are 28x28
  const BOX = 20;    // the digit is scaled to fit 20x20 ...
  const HIDDEN = 128;
  const CLASSES = 10;

  // ------------------------------------------------------------------ the network

  function decode(array) {
    // base64 -> little-endian float32 values (a DataView reads them the same on every machine).
    const bytes = Uint8Array.from(atob(array.data), (c) => c.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }

  let weightsPromise = null;
  function loadWeights() {
    if (!weightsPromise) {
      const url = new URL("weights.json", SCRIPT_URL);
      weightsPromise = fetch(url).then((response) => {
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        return response.json();
      }).then(network);
    }
    return weightsPromise;
  }

  // The network of a document written by `course export-web`.
  function network(doc) {
    const a = (doc && doc.arrays) || {};
    if (!a.W1 || !a.b1 || !a.W2 || !a.b2) throw new Error("not a weights file of `course export-web`");
    const net = { W1: decode(a.W1), b1: decode(a.b1), W2: decode(a.W2), b2: decode(a.b2), trained: doc.trained || {} };
    if (net.W1.length !== 784 * HIDDEN || net.b1.length !== HIDDEN ||
        net.W2.length !== HIDDEN * CLASSES || net.b2.length !== CLASSES) {
      throw new Error("expected a 784-128-10 network");
    }
    return net;
  }

  // probs = softmax(relu(x W1 + b1) W2 + b2) for one image x of 784 values in [0, 1].
  function forward(net, x) {
    const z1 = Float64Array.from(net.b1);                 // (128,)
    for (let i = 0; i < 784; i++) {                       // (784,) @ (784, 128) -> (128,)
      const xi = x[i];
      if (xi === 0) continue;
      const row = i * HIDDEN;
      for (let j = 0; j < HIDDEN; j++) z1[j] += xi * net.W1[row + j];
    }
    const z2 = Float64Array.from(net.b2);                 // (10,)
    for (let j = 0; j < HIDDEN; j++) {                    // relu(z1) (128,) @ (128, 10) -> (10,)
      const h = z1[j] > 0 ? z1[j] : 0;
      if (h === 0) continue;
      const row = j * CLASSES;
      for (let k = 0; k < CLASSES; k++) z2[k] += h * net.W2[row + k];
    }
    const m = Math.max(...z2);                            // softmax, largest logit subtracted
    const e = Array.from(z2, (z) => Math.exp(z - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  }

  // ------------------------------------------------------------------ MNIST-style preprocessing

  // ink: width*height values in [0, 1] (row-major). Returns 784 values in [0, 1], or null if blank.
  function preprocess(ink, width, height) {
    let x0 = width, y0 = height, x1 = -1, y1 = -1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (ink[y * width + x] > 0) {
          if (x < x0) x0 = x;
          if (x > x1) x1 = x;
          if (y < y0) y0 = y;
          if (y > y1) y1 = y;
        }
      }
    }
    if (x1 < 0) return null;
    const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
    const s = BOX / Math.max(bw, bh);                      // output pixels per input pixel
    const tw = Math.max(1, Math.round(bw * s)), th = Math.max(1, Math.round(bh * s));

    // Each output pixel is the mean of the input pixels it covers (at least one).
    const small = new Float64Array(tw * th);
    for (let ty = 0; ty < th; ty++) {
      const sy0 = y0 + Math.floor(ty / s);
      const sy1 = Math.min(y1 + 1, Math.max(sy0 + 1, y0 + Math.ceil((ty + 1) / s)));
      for (let tx = 0; tx < tw; tx++) {
        const sx0 = x0 + Math.floor(tx / s);
        const sx1 = Math.min(x1 + 1, Math.max(sx0 + 1, x0 + Math.ceil((tx + 1) / s)));
        let total = 0, count = 0;
        for (let y = sy0; y < sy1; y++) {
          for (let x = sx0; x < sx1; x++) { total += ink[y * width + x]; count++; }
        }
        small[ty * tw + tx] = count ? total / count : 0;
      }
    }

    // Centre of mass (pixel centres at i + 0.5) moved to the centre of the 28x28 field.
    let mass = 0, mx = 0, my = 0;
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const v = small[ty * tw + tx];
        mass += v; mx += v * (tx + 0.5); my += v * (ty + 0.5);
      }
    }
    const ox = mass > 0 ? Math.round(SIDE / 2 - mx / mass) : Math.round((SIDE - tw) / 2);
    const oy = mass > 0 ? Math.round(SIDE / 2 - my / mass) : Math.round((SIDE - th) / 2);
    const out = new Float32Array(SIDE * SIDE);
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const X = tx + ox, Y = ty + oy;
        if (X >= 0 && X < SIDE && Y >= 0 && Y < SIDE) out[Y * SIDE + X] = Math.min(1, small[ty * tw + tx]);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ the page

  function setup(root) {
    if (root.dataset.ready) return;
    root.dataset.ready = "starting";
    const pad = root.querySelector(".draw-digit__canvas");
    const view = root.querySelector(".draw-digit__input");
    const bars = root.querySelector(".draw-digit__bars");
    const guess = root.querySelector(".draw-digit__guess");
    const status = root.querySelector(".draw-digit__status");
    const ctx = pad.getContext("2d", { willReadFrequently: true });
    const viewCtx = view.getContext("2d");
    let net = null, drawing = false, last = null, pending = false;

    const rows = [];
    for (let d = 0; d < CLASSES; d++) {
      const row = document.createElement("div");
      row.className = "draw-bar";
      row.innerHTML = `<span class="draw-bar__digit">${d}</span><span class="draw-bar__track">` +
        `<span class="draw-bar__fill"></span></span><span class="draw-bar__value">–</span>`;
      bars.appendChild(row);
      rows.push(row);
    }

    function clear() {
      ctx.clearRect(0, 0, pad.width, pad.height);
      viewCtx.clearRect(0, 0, view.width, view.height);
      rows.forEach((row) => {
        row.classList.remove("draw-bar--top");
        row.querySelector(".draw-bar__fill").style.width = "0%";
        row.querySelector(".draw-bar__value").textContent = "–";
      });
      guess.textContent = "Draw a digit in the box.";
      delete root.dataset.prediction;
      window.courseDraw.last = null;
    }

    function show(x, probs) {
      const image = viewCtx.createImageData(SIDE, SIDE);
      for (let i = 0; i < SIDE * SIDE; i++) {
        image.data[4 * i + 3] = Math.round(255 * x[i]);   // black ink, alpha = grey level
      }
      const tmp = document.createElement("canvas");
      tmp.width = tmp.height = SIDE;
      tmp.getContext("2d").putImageData(image, 0, 0);
      viewCtx.imageSmoothingEnabled = false;
      viewCtx.clearRect(0, 0, view.width, view.height);
      viewCtx.drawImage(tmp, 0, 0, view.width, view.height);

      const best = probs.indexOf(Math.max(...probs));
      rows.forEach((row, d) => {
        row.classList.toggle("draw-bar--top", d === best);
        row.querySelector(".draw-bar__fill").style.width = `${(100 * probs[d]).toFixed(1)}%`;
        row.querySelector(".draw-bar__value").textContent = `${(100 * probs[d]).toFixed(1)}%`;
      });
      guess.innerHTML = `The network reads a <strong>${best}</strong> (${(100 * probs[best]).toFixed(1)}%).`;
      root.dataset.prediction = String(best);
      window.courseDraw.last = { input: Array.from(x), probs, prediction: best };
    }

    function update() {
      pending = false;
      if (!net) return;
      const pixels = ctx.getImageData(0, 0, pad.width, pad.height).data;
      const ink = new Float32Array(pad.width * pad.height);
      for (let i = 0; i < ink.length; i++) ink[i] = pixels[4 * i + 3] / 255;
      const x = preprocess(ink, pad.width, pad.height);
      if (x) show(x, forward(net, x));
    }

    function schedule() {
      if (!pending) { pending = true; requestAnimationFrame(update); }
    }

    function point(event) {
      const rect = pad.getBoundingClientRect();
      return [(event.clientX - rect.left) * pad.width / rect.width,
              (event.clientY - rect.top) * pad.height / rect.height];
    }

    pad.addEventListener("pointerdown", (event) => {
      event.preventDefault();
      pad.setPointerCapture(event.pointerId);
      drawing = true;
      last = point(event);
      ctx.beginPath();
      ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI);
      ctx.fill();
      schedule();
    });
    pad.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      event.preventDefault();
      const p = point(event);
      ctx.beginPath();
      ctx.moveTo(last[0], last[1]);
      ctx.lineTo(p[0], p[1]);
      ctx.stroke();
      last = p;
      schedule();
    });
    const stop = () => { drawing = false; last = null; schedule(); };
    pad.addEventListener("pointerup", stop);
    pad.addEventListener("pointercancel", stop);
    root.querySelector(".draw-digit__clear").addEventListener("click", clear);

    ctx.lineWidth = pad.width / 12;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.strokeStyle = ctx.fillStyle = "#000";
    clear();

    function use(loaded, source) {
      net = loaded;
      const t = net.trained;
      const by = document.createElement("code");
      by.textContent = t.by || "course export-web";
      status.replaceChildren(`${source}: 784-128-10, `, t.test_accuracy !== undefined ? "trained by " : "exported by ", by,
        t.test_accuracy !== undefined
          ? ` on ${t.data} (${t.train_images.toLocaleString("en")} images, ${t.epochs} epochs); it reads ` +
            `${(100 * t.test_accuracy).toFixed(1)}% of the ${t.test_images.toLocaleString("en")} test images correctly.`
          : ".");
      root.dataset.ready = "true";
      schedule();
    }

    loadWeights().then((loaded) => use(loaded, "The course's network")).catch((error) => {
      status.textContent = `Could not load the network's weights: ${error.message}`;
      root.dataset.ready = "error";
      console.error("draw a digit:", error);
    });

    // Your own network: a JSON file written by `course export-web`, read here, sent nowhere.
    const picker = root.querySelector(".draw-digit__file");
    if (picker) {
      picker.addEventListener("change", () => {
        const file = picker.files && picker.files[0];
        if (!file) return;
        file.text().then((text) => use(network(JSON.parse(text)), `Your network (${file.name})`)).catch((error) => {
          status.textContent = `${file.name}: ${error.message}. Export one with \`course export-web\`.`;
        });
      });
    }
  }

  window.courseDraw = {
    preprocess,
    loadWeights,
    network,
    forward,
    // For tests: the probabilities of several 784-pixel images at once.
    forwardBatch: (images) => loadWeights().then((net) => images.map((x) => forward(net, x))),
    last: null,
  };

  function start() {
    const root = document.querySelector(".draw-digit");
    if (root) setup(root);
  }
  if (typeof document$ !== "undefined") document$.subscribe(start);   // Material's page events
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
