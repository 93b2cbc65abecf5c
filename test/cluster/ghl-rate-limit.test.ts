/** test/integration/reliability/ghl-rate-limit.test.ts on a local three-master Redis Cluster: the budget holds across workers there too. */
process.env.TEST_REDIS_CLUSTER = '1';
await import('../integration/reliability/ghl-rate-limit.test.js');
