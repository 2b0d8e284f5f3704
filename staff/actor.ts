/** How a staff member appears as the actor of an audit event: their account id, never their email. */
export function staffActor(userId: string): string {
  return `staff:${userId}`;
}
