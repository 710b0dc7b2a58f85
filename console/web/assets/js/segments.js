// How many SMS segments a text needs: the same rules as hotline.CountSegments
// (hotline/segments.go), which a browser test checks on a table of texts.
// GSM-7: 160 septets in one segment, 153 per segment when split; characters of the
// extension table take two. One character outside GSM-7 makes the whole text
// UCS-2: 70 UTF-16 code units in one segment, 67 when split.

const GSM7_BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '^{}\\[~]|€\f';

const basic = new Set(GSM7_BASIC);
const extension = new Set(GSM7_EXTENSION);

function split(units, single, multi) {
  return units <= single ? 1 : Math.ceil(units / multi);
}

/** countSegments returns {encoding: "GSM-7"|"UCS-2", units, segments, perSegment}. */
export function countSegments(body) {
  if (!body) return { encoding: 'GSM-7', units: 0, segments: 0, perSegment: 160 };
  let septets = 0;
  let gsm = true;
  for (const ch of body) {
    if (basic.has(ch)) septets += 1;
    else if (extension.has(ch)) septets += 2;
    else { gsm = false; break; }
  }
  if (gsm) {
    const segments = split(septets, 160, 153);
    return { encoding: 'GSM-7', units: septets, segments, perSegment: segments > 1 ? 153 : 160 };
  }
  let units = 0;
  for (const ch of body) units += ch.codePointAt(0) >= 0x10000 ? 2 : 1;
  const segments = split(units, 70, 67);
  return { encoding: 'UCS-2', units, segments, perSegment: segments > 1 ? 67 : 70 };
}
