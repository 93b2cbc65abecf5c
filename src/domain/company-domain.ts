/**
 * The domain a contact's company is known by on Trustpilot: the website's host, else the email's
 * domain unless it is a free-mail provider (a gmail.com TrustScore says nothing about the contact). Pure.
 */

const FREE_MAIL = new Set([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'yahoo.co.uk', 'yahoo.fr', 'ymail.com', 'hotmail.com', 'hotmail.co.uk', 'hotmail.fr',
  'outlook.com', 'live.com', 'msn.com', 'icloud.com', 'me.com', 'mac.com', 'aol.com', 'gmx.com', 'gmx.de', 'gmx.net', 'web.de',
  'proton.me', 'protonmail.com', 'mail.com', 'mail.ru', 'yandex.ru', 'yandex.com', 'zoho.com', 'qq.com', '163.com', '126.com',
  'free.fr', 'orange.fr', 'laposte.net', 't-online.de', 'libero.it', 'btinternet.com', 'comcast.net', 'att.net', 'verizon.net',
]);

export function isFreeMailDomain(domain: string): boolean {
  return FREE_MAIL.has(domain.toLowerCase());
}

export function companyDomain(contact: { website?: string; email?: string }, skip: readonly string[] = []): string | undefined {
  const skipped = new Set(skip.map((domain) => domain.toLowerCase()));
  const fromWebsite = contact.website ? hostOf(contact.website) : undefined;
  if (fromWebsite && !skipped.has(fromWebsite)) return fromWebsite;
  const at = contact.email?.lastIndexOf('@') ?? -1;
  if (contact.email && at > 0) {
    const domain = contact.email.slice(at + 1).trim().toLowerCase();
    if (/^[a-z0-9.-]+\.[a-z]{2,}$/.test(domain) && !isFreeMailDomain(domain) && !skipped.has(domain)) return domain;
  }
  return undefined;
}

function hostOf(website: string): string | undefined {
  const text = website.trim();
  try {
    const host = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`).hostname.toLowerCase();
    const bare = host.replace(/^www\./, '');
    return /^[a-z0-9.-]+\.[a-z]{2,}$/.test(bare) ? bare : undefined;
  } catch {
    return undefined;
  }
}
