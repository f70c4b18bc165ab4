// The manual's pages in reading order.
export default { manual: ['index', 'install', 'config', 'api'] };
