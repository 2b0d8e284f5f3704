// The staff JSON API as a script calls it: a signed-in session, the CSRF token on every POST.
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { Browser } from './staff-client.ts';

export async function staffApi(who: Browser, method: 'GET' | 'POST', url: string, json?: unknown): Promise<LightMyRequestResponse> {
  return who.request({ method, url, html: false, ...(method === 'POST' ? { json: json ?? {}, headers: { 'x-csrf-token': await who.csrf() } } : {}) });
}

/** A rights request staff recorded from `email`, identity checked, linked to the person it is about; its id. */
export async function linkedRequest(who: Browser, type: string, email: string, subjectId: string, receivedAt = '2027-01-25'): Promise<string> {
  const res = await staffApi(who, 'POST', '/api/v1/staff/requests', {
    type,
    channel: 'email',
    receivedAt,
    email,
    verified: { method: 'document-seen', seen: 'passport' },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().id as string;
  const linked = await staffApi(who, 'POST', `/api/v1/staff/requests/${id}/link`, { subject: subjectId });
  assert.equal(linked.statusCode, 200, linked.body);
  return id;
}
