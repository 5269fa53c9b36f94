# Writes test/reference/pillow-resize.json: Pillow's Image.resize(BILINEAR) (torchvision's Resize on
# PIL images) of a formula image, the reference for src/image/resize.ts.
#   /usr/bin/python3 test/reference/pillow_resize.py   (needs python3-pil)
import base64, hashlib, json, os
from PIL import Image, __version__

def source(w, h):
    # the same formula as test/resize.test.ts: gradients plus high-frequency detail
    px = bytes((x * 37 + y * 91 + c * 53 + ((x * y) % 17) * 11 + (x ^ y) * 3) % 256 for y in range(h) for x in range(w) for c in range(3))
    return Image.frombytes('RGB', (w, h), px)

cases = []
for (w, h), (ow, oh), full in [((53, 41), (31, 27), True), ((53, 41), (80, 60), True), ((53, 41), (53, 20), True),
                               ((53, 41), (17, 41), True), ((53, 41), (106, 30), True), ((7, 5), (3, 2), True),
                               ((400, 300), (427, 320), False), ((512, 512), (320, 320), False), ((512, 512), (256, 256), False),
                               ((300, 400), (224, 299), False)]:
    out = source(w, h).resize((ow, oh), Image.BILINEAR).tobytes()
    case = {'in': [w, h], 'out': [ow, oh], 'sha256': hashlib.sha256(out).hexdigest()}
    if full:
        case['rgb'] = base64.b64encode(out).decode()
    cases.append(case)
path = os.path.join(os.path.dirname(__file__), 'pillow-resize.json')
with open(path, 'w') as f:
    json.dump({'pillow': __version__, 'cases': cases}, f, indent=1)
print(path, len(cases))
