import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const uiRoot = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/ui', import.meta.url));

const COMPRESSIBLE = /\.(js|css|html|svg|json|map|txt)$/;

/**
 * Writes `<file>.gz` and `<file>.br` next to every text asset, so the portal serves compressed
 * files without compressing per request (src/http/ui.ts picks one by Accept-Encoding).
 */
function precompress(): Plugin {
  return {
    name: 'xscaler-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!COMPRESSIBLE.test(name)) continue;
        const file = join(options.dir ?? outDir, name);
        const body = readFileSync(file);
        if (body.length < 512) continue;
        writeFileSync(`${file}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 11,
              [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
            },
          }),
        );
      }
    },
  };
}

export default defineConfig({
  root: uiRoot,
  base: '/ui/',
  // Nothing of the build reads .env files or public/: everything comes from src/.
  envDir: false,
  publicDir: false,
  plugins: [react(), precompress()],
  build: {
    outDir,
    emptyOutDir: true,
    // Chromium, Firefox and Safari of the last two years: no legacy transforms.
    target: 'es2022',
    // Assets stay files: the CSP allows no data: fonts, and every file gets a hashed name.
    assetsInlineLimit: 0,
    // Every supported browser has modulepreload; the polyfill would be dead code.
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: true,
    rolldownOptions: {
      output: {
        entryFileNames: 'assets/[name]-[hash].js',
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
  server: { strictPort: true },
});
