// Line breaks and tabs as character references: conformant parsers turn literal ones into spaces in
// attributes and CR LF into LF in text; references come back exactly.
const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' };

/**
 * Text as XML text or attribute content: entities for `& < > " '`, references for line breaks and tabs.
 * Shared by the xml escaper (render/output-escapers.ts) and the redactor, which must find a secret so written.
 */
export function escapeXmlText(text: string): string {
  return text.replace(/[&<>"'\n\r\t]/g, (c) => XML_ENTITIES[c] ?? c);
}
