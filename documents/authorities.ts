// Supervisory authorities and dated complaint rules named in notices. Dated facts carry their date so a
// notice shows the rule that applies on its effective date.

export const ICO = Object.freeze({
  name: "Information Commissioner's Office",
  address: 'Wycliffe House, Water Lane, Wilmslow, Cheshire SK9 5AF',
  url: 'https://ico.org.uk/make-a-complaint/',
  phone: '0303 123 1113',
});

/** UK DPA 2018 s.164A (inserted by the Data (Use and Access) Act 2025): controllers handle complaints first. */
export const UK_COMPLAINTS_FIRST_FROM = '2026-06-19';

/** The EDPB's list of the national supervisory authorities, for EU notices that name none. */
export const EU_AUTHORITIES_LIST = 'https://www.edpb.europa.eu/about-edpb/about-edpb/members_en';
