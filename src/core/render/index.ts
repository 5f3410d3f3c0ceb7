/**
 * Rendering of score maps and predictions: colour maps and PNG files. Webview code imports ./colormap
 * directly, since this index also pulls in sharp through ./png.
 */
export * from './colormap';
export { writeRgbaPng, writeMapPng, writeClassPng, type MapPngOptions } from './png';
