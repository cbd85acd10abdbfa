// Builds the Ketcher structure editor into the node's static files (served at /static/editor/).
// The output is not committed: `make editor` rebuilds it when package-lock.json changes.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/static/editor/',
  // Some of Ketcher's dependencies read Node's process.env and global; a browser has neither.
  define: { 'process.env': '{}', global: 'globalThis' },
  resolve: {
    // paper-full bundles PaperScript, whose parser compiles code with Function() and so needs
    // CSP 'unsafe-eval'; Ketcher draws with paper's core alone.
    alias: { paper: 'paper/dist/paper-core.js' },
  },
  build: {
    outDir: '../src/liaison/web/ui/static/editor',
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 20000,
    // Ketcher's packages mix CommonJS and ES modules (epam/ketcher#5565).
    commonjsOptions: { transformMixedEsModules: true },
    rollupOptions: {
      input: 'src/editor.js',
      // MUI's 'use client' directives mean nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      output: {
        // Fixed names: the substance page links editor.js and editor.css.
        entryFileNames: 'editor.js',
        assetFileNames: (asset) => (asset.names?.[0]?.endsWith('.css') ? 'editor.css' : '[name]-[hash][extname]'),
      },
    },
  },
});
