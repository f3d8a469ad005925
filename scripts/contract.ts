import { buildSchema, findBreakingChanges, type GraphQLSchema } from 'graphql';

/**
 * Every way `schema` would break a client written against `contractSdl`: removed or renamed types,
 * fields, arguments, enum values and union members, and changed types or nullability. Additions are fine.
 * graphql-js' findBreakingChanges is the reference for what "breaking" means; we add the one check it
 * leaves out: a field that became nullable where the contract promised non-null.
 */
export function contractBreaks(contractSdl: string, schema: GraphQLSchema): string[] {
  const contract = buildSchema(contractSdl);
  const breaks = findBreakingChanges(contract, schema).map((c) => `${c.type}: ${c.description}`);
  for (const type of Object.values(contract.getTypeMap())) {
    if (type.name.startsWith('__') || !('getFields' in type)) continue;
    const ours = schema.getType(type.name);
    if (!ours || !('getFields' in ours)) continue;
    const ourFields = ours.getFields();
    for (const [name, field] of Object.entries(type.getFields())) {
      const mine = ourFields[name];
      if (mine && String(mine.type) !== String(field.type)) {
        const message = `${type.name}.${name} is ${String(mine.type)}, contract says ${String(field.type)}`;
        if (!breaks.some((b) => b.includes(`${type.name}.${name}`))) breaks.push(`TYPE_CHANGED: ${message}`);
      }
    }
  }
  return breaks;
}
