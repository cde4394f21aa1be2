/** The shortest password the BFF (and Picard, for accounts signed in with Picard) accepts. */
export const PASSWORD_MIN = 8;
