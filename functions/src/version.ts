/** The product version sent in the standard headers; a unit test keeps it equal to package.json's. */
export const PRODUCT = 'hookshape';
export const VERSION = '0.1.0';
