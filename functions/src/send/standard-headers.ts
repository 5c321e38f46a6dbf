import { PRODUCT, VERSION } from '../version.ts';

/**
 * Sent with every request (seed 001). They name the product and version so receivers can recognise
 * the traffic, but they are trivially forged: receivers authenticate with a token or the signature.
 */
export const STANDARD_HEADERS: Readonly<Record<string, string>> = {
  'User-Agent': `${PRODUCT}/${VERSION} (+webhooks)`,
  'X-Powered-By': `${PRODUCT}/${VERSION}`,
  'X-Requested-With': PRODUCT,
};
