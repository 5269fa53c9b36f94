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
  .card { background: #fff; border-radius: 8px; padding: 8px; box-shadow: 0 1px 2px #0002; width: 236px; }
  .card canvas { width: 224px; height: auto; display: block; border-radius: 4px; }
  .card .name { font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .verdict { font-weight: 700; padding: 1px 6px; border-radius: 4px; font-size: 12px; }
  .verdict.GOOD { background: #d1fadf; color: #05603a; }
  .verdict.ANOMALOUS { background: #fee4e2; color: #b42318; }
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
    <p id="limits" style="font-size:12px;color:#52606d"></p>
  </section>
  <section>
    <h2>2. Model</h2>
    <div id="model">No model yet: fit one above, or open one fitted with <code>patchcore fit</code>.</div>
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
  </section>
  <div id="cards"></div>
</main>
<script type="module" src="main.js"></script>
</body>
</html>
`;
