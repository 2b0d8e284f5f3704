// Architecture rules. Folders form floors, lowest first: a folder may import its own floor and any floor below
// it, never one above, so the layers stay acyclic and each can be tested without the ones above it.
// Run: npx depcruise --config .dependency-cruiser.cjs core db audit register crypto staff subjects ...

const { builtinModules } = require('node:module');

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Lowest first. A sub-folder listed here (subjects/collect) is its own floor and is left out of its parent's.
// Adding a folder is one line; folders that do not exist yet simply match nothing.
const FLOORS = [
  'core',
  'db',
  'audit',
  'register',
  'crypto',
  'mail',
  'app',
  'staff',
  'retention',
  'subjects',
  'consent',
  'subjects/collect',
  'visitors',
  'access-log',
  'documents',
  'disclosures',
  'requests',
  'console',
  'web',
  'jobs',
  'http',
  'cli',
];

// Outside the floors, free to import anything: test/, bench/, examples/ (not on a floor) and every *.test.ts.
// Tests are also left out of the cruise (options.exclude), so a test importing a helper from a higher floor
// does not make a folder dependency for the cycle rule.
const TESTS = '\\.test\\.ts$';

// Node's built-ins resolve to bare names; left in, node:crypto and node:http would count as our crypto/ and http/.
const BUILT_INS = `^(node:)?(${builtinModules.map(escapeRegExp).join('|')})$`;

// db/tables.ts unites every folder's table types, so it imports higher floors, for types only. It is included but
// not followed: its imports would otherwise put db in a folder cycle with every folder that owns a table, and a
// folder-scope rule cannot filter by dependency type (a module rule with dependencyTypesNot: ['type-only'] could
// check the floors but not the cycles). The price: its own imports are not checked here, so keep it type-only.
const TYPE_UNIONS = ['^db/tables\\.ts$'];

/** The modules of a floor: its folder, minus any sub-folder that is a floor of its own. */
function floorPath(floor) {
  const own = FLOORS.filter((f) => f.startsWith(`${floor}/`)).map((f) => escapeRegExp(f.slice(floor.length + 1)));
  return `^${escapeRegExp(floor)}/${own.length > 0 ? `(?!(${own.join('|')})/)` : ''}`;
}

const floorRules = FLOORS.slice(0, -1).map((floor, i) => ({
  name: `floor-${floor.replaceAll('/', '-')}`,
  comment: `${floor} is on floor ${i + 1}: it must not import ${FLOORS.slice(i + 1).join(', ')}`,
  severity: 'error',
  from: { path: floorPath(floor), pathNot: TESTS },
  to: { path: FLOORS.slice(i + 1).map(floorPath) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'Folders must not depend on each other in a circle (folder level, so two modules need not form the cycle themselves)',
      severity: 'error',
      scope: 'folder',
      from: { pathNot: '^(test|bench|examples|node_modules)(/|$)' },
      to: { circular: true },
    },
    ...floorRules,
  ],
  options: {
    doNotFollow: { path: ['node_modules', ...TYPE_UNIONS] },
    exclude: { path: [TESTS, BUILT_INS] },
    // See type-only imports too: they still couple folders, so they count for the floors and the cycles.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
