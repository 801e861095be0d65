// Validate an OpenAPI document with @apidevtools/swagger-parser: the
// official JSON Schema of its version (3.1 here) and every $ref resolved.
// usage: node validate.mjs FILE   -> prints "valid" and exits 0, or the
// validator's message and exits 1.
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';

const doc = JSON.parse(readFileSync(process.argv[2], 'utf8'));
try {
  await SwaggerParser.validate(doc);
  console.log('valid');
} catch (err) {
  console.log(err.message);
  process.exit(1);
}
