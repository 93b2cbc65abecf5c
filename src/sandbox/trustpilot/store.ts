/**
 * In-memory state: business units (found by identifying or referring name), consumers and the
 * reviews of every business unit. A deleted review is gone: every read of it answers 404.
 */
import type { BusinessUnitRecord, ConsumerRecord, ReviewRecord } from './model.js';

export interface TrustpilotStore {
  putBusinessUnit(unit: BusinessUnitRecord): void;
  getBusinessUnit(id: string): BusinessUnitRecord | undefined;
  /** By identifying name or a referring name (`example.com`, `www.example.com`), case-insensitive. */
  findBusinessUnit(name: string): BusinessUnitRecord | undefined;
  putConsumer(consumer: ConsumerRecord): void;
  getConsumer(id: string): ConsumerRecord | undefined;
  putReview(review: ReviewRecord): void;
  getReview(id: string): ReviewRecord | undefined;
  removeReview(id: string): boolean;
  reviewsOf(businessUnitId: string): ReviewRecord[];
  consumerReviewCount(consumerId: string): number;
}

/** The names a business unit answers to: its domain with and without `www.`. */
export function referringNames(domain: string): string[] {
  return [domain, `www.${domain}`];
}

export function normalizeDomain(name: string): string {
  const lower = name.trim().toLowerCase().replace(/\.$/, '');
  return lower.startsWith('www.') ? lower.slice(4) : lower;
}

export function createTrustpilotStore(): TrustpilotStore {
  const units = new Map<string, BusinessUnitRecord>();
  const consumers = new Map<string, ConsumerRecord>();
  const reviews = new Map<string, ReviewRecord>();

  return {
    putBusinessUnit(unit) {
      units.set(unit.id, unit);
    },
    getBusinessUnit: (id) => units.get(id),
    findBusinessUnit(name) {
      const wanted = name.trim().toLowerCase();
      for (const unit of units.values()) {
        if (referringNames(unit.domain).includes(wanted)) return unit;
      }
      return undefined;
    },
    putConsumer(consumer) {
      consumers.set(consumer.id, consumer);
    },
    getConsumer: (id) => consumers.get(id),
    putReview(review) {
      reviews.set(review.id, review);
    },
    getReview: (id) => reviews.get(id),
    removeReview: (id) => reviews.delete(id),
    reviewsOf: (businessUnitId) => [...reviews.values()].filter((review) => review.businessUnitId === businessUnitId),
    consumerReviewCount(consumerId) {
      let count = 0;
      for (const review of reviews.values()) if (review.consumerId === consumerId) count += 1;
      return count;
    },
  };
}
