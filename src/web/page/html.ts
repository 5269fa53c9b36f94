// The page's HTML and CSS (one file, no external fonts, scripts or images: nothing leaves the origin).
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PatchCore studio</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d232b; }
  header { background: #1d232b; color: #fff; padding: 12px 20px; }
  header h1 { font-size: 18px; margin: 0; }
  header p { margin: 4px 0 0; font-size: 13px; color: #b8c2cc; }
  main { max-width: 1100px; margin: 0 auto; padding: 16px 20px; }
  section { background: #fff; border-radius: 8px; padding: 14px 16px; margin-bottom: 14px; box-shadow: 0 1px 2px #0002; }
  h2 { font-size: 15px; margin: 0 0 10px; }
  .drop { border: 2px dashed #9aa5b1; border-radius: 6px; padding: 14px; text-align: center; color: #52606d; }
  .drop.over { background: #e6f0ff; border-color: #3b82f6; }
  .row { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-top: 10px; }
  progress { width: 320px; height: 14px; }
  #error { color: #b42318; font-weight: 600; white-space: pre-wrap; }
  #model { font-size: 13px; color: #334e68; }
  #cards { display: flex; flex-wrap: wrap; gap: 12px; }
  .card { background: #fff; border-radius: 8px; padding: 8px; box-shadow: 0 1px 2px #0002; width: 260px; }
  .card .name { font-size: 12px; overflow-wrap: anywhere; margin: 4px 0; }
  .verdict.big { font-size: 28px; font-weight: 800; text-align: center; color: #fff; border-radius: 6px; background: #90a4ae; letter-spacing: 0.08em; }
  .verdict.big.pass { background: #2e7d32; }
  .verdict.big.fail { background: #c62828; }
  .verdict.big.error { background: #6d4c41; }
  .heat-wrap { position: relative; overflow: hidden; aspect-ratio: var(--ar, 1); background: #eceff1; }
  .heat-wrap canvas { width: 100%; height: auto; display: block; }
  .boxes { position: absolute; inset: 0; pointer-events: none; }
  .region { position: absolute; border: 3px solid #fff; outline: 2px solid #000; box-sizing: border-box; }
  .inspected { position: absolute; box-shadow: 0 0 0 2000px rgba(90, 90, 90, 0.65); border: 1px dashed #fff; }
  .not-inspected { position: absolute; left: 4px; bottom: 4px; font-size: 11px; background: rgba(0,0,0,0.6); color: #fff; padding: 0 4px; }
  .scoreline { margin: 4px 0 0; font-size: 12px; }
  .card.error .scoreline { color: #b42318; }
  .settings { font-size: 13px; color: #334e68; }
  .warning { background: #fff3e0; border: 1px solid #ef6c00; padding: 6px 10px; border-radius: 6px; font-size: 13px; }
  .legend-words { font-size: 12px; color: #52606d; }
  .legend-words .bar { display: inline-block; width: 120px; height: 10px; vertical-align: middle; border-radius: 2px; background: linear-gradient(to right, rgb(0,0,128), rgb(0,0,255) 12.5%, rgb(0,128,255) 25%, rgb(0,255,255) 37.5%, rgb(128,255,128) 50%, rgb(255,255,0) 62.5%, rgb(255,128,0) 75%, rgb(255,0,0) 87.5%, rgb(128,0,0)); }
  button { padding: 6px 12px; }
</style>
</head>
<body>
<header>
  <h1>PatchCore studio</h1>
  <p>Fits and inspects in this browser tab. No image leaves this machine; the page makes no request outside its own origin.</p>
</header>
<main>
  <div id="error" role="alert"></div>
  <section>
    <h2>1. Good images</h2>
    <div class="drop" id="train-drop">Drop a folder of good images here, or
      <input type="file" id="train-files" multiple accept="image/*"> <label>(a folder: <input type="file" id="train-folder" webkitdirectory>)</label></div>
    <div class="row">
      <label>coreset ratio <input type="number" id="ratio" value="0.1" min="0.001" max="1" step="0.01" style="width:70px"></label>
      <button id="fit" disabled>Fit</button>
      <progress id="progress" max="1" value="0"></progress>
      <span id="eta"></span>
    </div>
    <p id="settings" class="settings"></p>
    <p id="limits" style="font-size:12px;color:#52606d"></p>
  </section>
  <section>
    <h2>2. Model</h2>
    <div id="model">No model yet: fit one above, or open one fitted with <code>patchcore fit</code>.</div>
    <p id="threshold-warning" class="warning" role="alert" hidden></p>
    <div class="row">
      <button id="download" disabled>Download model (.zip)</button>
      <label>Open a model (.zip, or model.json + bank-*.bin): <input type="file" id="open-model" multiple accept=".zip,.json,.bin"></label>
    </div>
  </section>
  <section>
    <h2>3. Test images</h2>
    <div class="drop" id="test-drop">Drop test images here, or <input type="file" id="test-files" multiple accept="image/*" disabled></div>
    <div class="row">
      <label>threshold <input type="range" id="threshold" min="0" max="1" step="any" disabled style="width:300px"></label>
      <span id="threshold-value"></span>
    </div>
    <p class="legend-words"><span class="bar"></span> Heat colours, the same for every part: blue = like the good training images, green-yellow = at the defect threshold, red = far above it. Outlined boxes are the defect regions; the grey band is not inspected. <i>Normalised score</i>: 0.5 at the threshold, near 0 for a typical good part, near 1 far above.</p>
  </section>
  <div id="cards"></div>
</main>
<script type="module" src="main.js"></script>
</body>
</html>
`;
