/** A valid scan request for the IDT example register; `i` makes its phone, email and reference unique in `run`. */
export function scanRequest(run: string, i: number, area = `Lower left molar ${i}, suspected cyst`): Record<string, string> {
  return {
    'patient.name': `Patient ${i}`,
    'patient.dob': '1980-02-03',
    'patient.phone': `+44 20 7${String(i).padStart(7, '0')}`,
    'patient.email': `p${i}.${run}@example.com`,
    'patient.reference': `R-${run}-${i}`,
    'scan.type': i % 2 ? 'Medical CT' : 'CBCT (cone beam CT)',
    'scan.area': area,
  };
}
