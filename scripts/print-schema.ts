/**
 * Print the Pothos schema to schema.graphql (sorted), or with --check fail when the checked-in file is
 * stale or breaks ../shared/api-contract.graphql.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from '../src/schema/index.ts';
import { contractBreaks } from './contract.ts';

const schemaFile = fileURLToPath(new URL('../schema.graphql', import.meta.url));
const contractFile = fileURLToPath(new URL('../../shared/api-contract.graphql', import.meta.url));
const printed = `${printSchema(schema)}\n`;

if (process.argv.includes('--check')) {
  let failed = false;
  if (!existsSync(schemaFile) || readFileSync(schemaFile, 'utf8') !== printed) {
    console.error('schema.graphql is stale: run `npm run schema:print` and commit it.');
    failed = true;
  }
  if (existsSync(contractFile)) {
    const breaks = contractBreaks(readFileSync(contractFile, 'utf8'), schema);
    for (const change of breaks) console.error(`breaks the contract: ${change}`);
    failed ||= breaks.length > 0;
  } else {
    console.warn(`${contractFile} not found: contract compatibility not checked.`);
  }
  if (failed) process.exit(1);
  console.log('schema.graphql is up to date and compatible with the contract.');
} else {
  writeFileSync(schemaFile, printed);
  console.log(`wrote ${schemaFile}`);
}
