/** Bounds on what one webhook's templates may cost; documented in docs/security.md (Limits). */
export const RENDER_LIMITS = {
  /** Characters of one template (url, a header, the body...). */
  templateChars: 64 * 1024,
  /** Blocks (for, if, case, capture...) nested in one template: render/direct-render.ts. */
  blockDepth: 100,
  /** Wall-clock milliseconds to render one template (liquidjs renderLimit). */
  renderMs: 250,
  /** Approximate allocations while rendering one template (liquidjs memoryLimit). */
  memory: 8 * 1024 * 1024,
  /** Bytes of a rendered body. */
  bodyBytes: 512 * 1024,
  /** Characters of a rendered URL, query included. */
  urlChars: 8 * 1024,
  /** Characters of one rendered header value. */
  headerValueChars: 8 * 1024,
} as const;
