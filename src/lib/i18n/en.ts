/**
 * The interface's English texts. Every text the page shows comes from here or from `ko.ts` (same keys, checked by
 * the type), so switching the language changes all of them; technical details (adapter names, error details)
 * stay as the system wrote them.
 */
import type { ErrorCode } from '../../core/errors.ts';
import type { IssueRule } from '../../core/request.ts';
import type { RouteWhy } from '../../core/capabilities.ts';

const mb = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

export const en = {
  lang: 'en',
  languageName: 'English',
  app: {
    title: 'Ad Studio',
    tagline: 'Advertising images for your shop, made on your own device.',
    languageLabel: 'Language',
  },
  form: {
    example: 'Example',
    exampleNone: 'Choose a real case…',
    industry: 'Business',
    style: 'Style',
    aspect: 'Shape',
    description: 'What should the picture show?',
    descriptionPlaceholder: 'fresh croissants on a marble counter, morning light',
    builtPrompt: 'What the model reads (English)',
    editPrompt: 'Edit',
    usePromptBuilder: 'Use the automatic prompt',
    promptEdited: 'edited by you',
    modelTranslates: (model: string) => `When the ad is made, the ${model} model translates the Korean; this preview uses the built-in glossary.`,
    untranslated: (words: string) => `Not understood, so not used: ${words}. Write them in English or with other words.`,
    removedText: (words: string) => `Letters are added afterwards as the ad copy, not drawn by the model: ${words}`,
    droppedTags: (n: number) => `${n} style ${n === 1 ? 'tag was' : 'tags were'} left out to fit the model's 77-token limit.`,
    overLimit: 'The description is longer than the model reads (77 tokens): its end will be cut.',
    copy: 'Text on the ad',
    shopName: 'Shop name',
    headline: 'Headline',
    subline: 'Sub-line',
    badge: 'Price or discount',
    shopNamePlaceholder: 'Morning Bakery',
    headlinePlaceholder: 'Fresh croissants every morning',
    sublinePlaceholder: 'Open 7am–9pm · 12 Main Street',
    badgePlaceholder: '50% off',
    advanced: 'Advanced settings',
    negativePrompt: 'Negative prompt',
    steps: 'Steps',
    guidance: 'Guidance',
    seed: 'Seed',
    randomSeed: 'Random seed',
    sampler: 'Sampler',
    samplerDefault: (fromConfig: boolean) => `Model default (${fromConfig ? 'from scheduler_config.json' : 'Euler'})`,
    model: 'Model package',
    modelForStyle: (id: string) => `The style's model (${id})`,
    runOn: 'Run on',
    routes: { auto: 'Auto', device: 'This device', server: 'Server' },
    styleDefaults: 'Steps, guidance and sampler follow the style; change them here.',
    generate: 'Generate',
    generating: 'Generating…',
  },
  industries: {
    cafe: 'Cafe',
    bakery: 'Bakery',
    restaurant: 'Restaurant',
    flower_shop: 'Flower shop',
    hair_nail_salon: 'Hair & nail salon',
    retail: 'Shop',
    service: 'Service',
    other: 'Other',
  } as Record<string, string>,
  styles: {
    ultra_realistic: { name: 'Photo', blurb: 'Looks like a real photograph' },
    semi_realistic: { name: 'Illustrated photo', blurb: 'Soft, painterly realism' },
    anime: { name: 'Anime', blurb: 'Bright anime illustration' },
  } as Record<string, { name: string; blurb: string }>,
  aspects: {
    '1:1': 'Instagram feed 1:1',
    '3:4': 'Instagram feed 3:4',
    '4:3': 'Flyer, website 4:3',
    '16:9': 'Banner, YouTube 16:9',
    '9:16': 'Story, Reels 9:16',
  } as Record<string, string>,
  photo: {
    legend: 'Product or shop photo',
    optional: 'optional: start from a picture of your shop or product',
    strength: 'Strength',
    strengthHint: (v: string) => `${v}: how much to change it`,
    remove: 'Remove photo',
    alt: 'reference photo',
    unreadable: (name: string) => `${name} is not a picture this browser can read.`,
  },
  fields: {
    prompt: 'The description',
    negative_prompt: 'The negative prompt',
    width: 'The width',
    height: 'The height',
    num_inference_steps: 'Steps',
    guidance_scale: 'Guidance',
    seed: 'The seed',
    scheduler: 'The sampler',
    strength: 'The strength',
    image: 'The photo',
    model: 'The model',
    style: 'The style',
    '(body)': 'The request',
    'ad.text': 'The description',
    'ad.industry': 'The business',
    'ad.copy.shop_name': 'The shop name',
    'ad.copy.headline': 'The headline',
    'ad.copy.subline': 'The sub-line',
    'ad.copy.badge': 'The price or discount',
    'ad.copy.watermark': 'The mark',
  } as Record<string, string>,
  /** A sentence for a bad field; `limit` is the rule's bound. */
  issue: (field: string, rule: IssueRule | undefined, limit: number | string | undefined, fallback: string): string => {
    switch (rule) {
      case 'required':
        return `${field} is needed.`;
      case 'minimum':
        return `${field} must be at least ${limit}.`;
      case 'maximum':
        return `${field} can be at most ${limit}.`;
      case 'exclusive_minimum':
        return `${field} must be more than ${limit}.`;
      case 'min_length':
        return limit === 1 ? `${field} is empty: write something.` : `${field} needs at least ${limit} characters.`;
      case 'max_length':
        return `${field} is too long: at most ${limit} characters.`;
      case 'multiple_of':
        return `${field} must be a multiple of ${limit}.`;
      case 'one_of':
        return `${field} must be one of: ${limit}.`;
      case 'type':
        return `${field} must be a ${limit === 'integer' ? 'whole number' : limit === 'number' ? 'number' : String(limit)}.`;
      case 'blank':
        return `${field} has only spaces: write something.`;
      case 'pattern':
        return `${field} has characters that cannot be used here (such as emoji).`;
      case 'no_step':
        return `${field} is too low to change anything: use at least ${limit}, or more steps.`;
      default:
        return `${field}: ${fallback}`;
    }
  },
  errors: {
    invalid_request: 'Some settings need fixing (see the form).',
    unknown_model: 'That model is not installed on the server.',
    model_package: 'The model files are damaged or incomplete.',
    model_download: 'The model could not be downloaded.',
    storage: "This browser's storage could not be used.",
    storage_full: "This browser's storage for this site is full.",
    out_of_memory: 'The device ran out of memory.',
    device_lost: 'The graphics device stopped responding.',
    unsupported_operator: "This device's graphics runtime lacks an operation the model needs.",
    session_error: 'The runtime could not run the model.',
    non_finite_image: 'The model produced an empty image.',
    cancelled: 'The generation was cancelled.',
    server_unreachable: 'The server could not be reached. Check the connection, or generate on this device.',
    queue_full: 'The server is busy right now. Try again in a minute.',
    idempotency_conflict: 'This request was already sent with different settings.',
    interrupted: 'The server stopped while making the image. Try again.',
    execution_provider_unavailable: "The server's graphics runtime is not available.",
    unauthorized: 'The server refused this app (its key is missing or wrong).',
    rate_limited: 'Too many requests in a short time. Wait a moment and try again.',
    quota_exceeded: "Today's server renders are used up. Generate on this device, or try again tomorrow.",
    internal: 'Something went wrong inside the app.',
  } satisfies Record<ErrorCode, string>,
  noImage: (sentence: string, detail: string) => `No image: ${sentence} (${detail})`,
  progress: {
    download: (variant: string, loaded: number, total: number) =>
      `Downloading the ${variant} model: ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB (${Math.floor((100 * loaded) / Math.max(total, 1))}%)`,
    load: (component: string, index: number, total: number) => `Loading ${component} (${index + 1}/${total})`,
    serverLoad: 'The server is loading the model',
    encode: 'Reading the prompt',
    denoise: (step: number, total: number) => `Step ${step} of ${total}`,
    decode: 'Decoding the image',
    queued: (position: number) => `Waiting on the server (${position} ahead)`,
    fetch: 'Downloading the image',
    layout: 'Laying out the text',
    starting: 'Starting…',
    cancelling: 'Cancelling…',
    cancel: 'Cancel',
    eta: (seconds: number) => (seconds < 90 ? `about ${seconds} s left` : `about ${Math.round(seconds / 60)} min left`),
    previewAlt: 'preview',
    previewTitle: (step: number) => `Step ${step}`,
  },
  notices: {
    offline: 'The server is not reachable: generating on this device only.',
    historyUnreadable: (detail: string) => `History could not be read: ${detail}`,
    modelDetails: (id: string, detail: string) => `Model "${id}" details are unavailable: ${detail}`,
    backgroundDone: (variant: string) => `The ${variant} model is on this device now; images are made here from now on.`,
    backgroundFailed: (variant: string, reason: string) => `The ${variant} model could not be downloaded to this device: ${reason}. Images are made on the server.`,
    resumed: 'The server is still making the image asked for before this page was reloaded.',
    truncatedPrompt: (cut: string) => `The prompt is longer than the model reads (77 tokens); this end was not used: "${cut}"`,
    truncatedNegative: (cut: string) => `The negative prompt is longer than 77 tokens; not used: "${cut}"`,
    fp32Retry: 'The image decoder overflowed in half precision; it was decoded again in full precision.',
    memoryOnly: 'This browser window cannot keep the model (a private window, or no room left): it is held in memory for this visit and downloaded again on the next.',
    historyNotSaved: (detail: string) => `The image could not be saved to history (${detail}); download it to keep it.`,
    downloadFailed: (reason: string) => `The model could not be downloaded: ${reason}`,
    repaired: (n: number, variant: string) => `${n} damaged ${n === 1 ? 'piece was' : 'pieces were'} downloaded again; the ${variant} model is intact now.`,
    intact: (variant: string) => `The ${variant} model on this device is intact.`,
    checkFailed: (reason: string) => `The model could not be checked: ${reason}`,
    removeFailed: (detail: string) => `The model could not be removed: ${detail}`,
    variantFailed: (variant: string, reason: string, next: string) => `The ${variant} model could not run on this device: ${reason}. Trying the ${next} model instead.`,
    deviceFailed: (reason: string) => `This device could not finish the image: ${reason}. Generating the same request on the server instead.`,
    shareFailed: (detail: string) => `The picture could not be shared: ${detail}`,
    exportFailed: (detail: string) => `The picture could not be exported: ${detail}`,
  },
  plain: {
    out_of_memory: 'it ran out of memory',
    device_lost: 'its graphics device stopped responding',
    unsupported_operator: 'its graphics runtime lacks an operation the model needs',
    session_error: 'its runtime could not run the model',
    storage: 'its storage could not be used',
    storage_full: 'its storage for this site is full',
    model_download: 'the model could not be downloaded',
  } as Partial<Record<ErrorCode, string>>,
  device: {
    title: 'Device',
    checking: 'checking WebGPU…',
    fp16: 'fp16',
    noFp16: 'no fp16',
    software: 'software (CPU)',
    route: 'Route',
    model: 'Model',
    stored: (variant: string, bytes: number) => `${variant} on this device (${mb(bytes)})`,
    notStored: (variant: string, bytes: number) => `${variant} not on this device yet (${mb(bytes)} to download)`,
    download: 'Download for offline use',
    check: 'Check files',
    remove: 'Remove from this device',
    background: (variant: string, loaded: number, total: number) => `Downloading the ${variant} model in the background: ${mb(loaded)} of ${mb(total)}`,
  },
  /** In English the route's own reason (with its details) is shown. */
  route: undefined as undefined | ((why: RouteWhy, variant: string | undefined) => string),
  quota: {
    left: (n: number) => `server renders left today: ${n}`,
    reset: (time: string) => `(more at ${time}; images on this device are not counted)`,
  },
  result: {
    cancelled: 'The generation was cancelled.',
    empty: 'Your image appears here.',
    computed: 'Computed',
    onDevice: 'on this device',
    onServer: 'on the server',
    provider: 'Provider',
    model: 'Model',
    time: 'Time',
    sizeSeed: 'Size · seed',
    fallback: 'Fallback',
    seconds: (s: number) => `${s.toFixed(2)} s`,
    downloadPng: 'Download PNG',
    editCopy: 'Edit the text',
    showCopy: 'Show the text on the image',
  },
  export: {
    title: 'Save or share',
    size: 'Size',
    sizes: {
      original: 'Original',
      instagram_square: 'Instagram square 1080×1080',
      instagram_portrait: 'Instagram portrait 1080×1350',
      story_reels: 'Story, Reels 1080×1920',
      facebook_link: 'Facebook, link 1200×628',
    } as Record<string, string>,
    fit: 'Fit',
    fitModes: { crop: 'Fill (crop)', fit: 'Fit (whole picture)' } as Record<string, string>,
    format: 'Format',
    watermark: 'Small "Ad Studio" mark',
    download: 'Download',
    share: 'Share',
    working: 'Preparing…',
  },
  made: {
    title: 'How it was made',
    nodes: { prompt: 'Prompt', txt2img: 'Text to image', img2img: 'Photo to image', layout: 'Text on the image', export: 'Export' } as Record<string, string>,
    status: { succeeded: 'done', failed: 'failed', skipped: 'skipped', running: 'running', pending: 'waiting', cancelled: 'cancelled' } as Record<string, string>,
    translatedBy: (by: string) => (by === 'glossary' ? 'Korean translated with the built-in glossary' : `Korean translated by the ${by} model`),
  },
  history: {
    title: 'History',
    empty: 'Generated images are kept here, on this device.',
    server: (ep: string) => `server ${ep}`,
    delete: 'Delete',
    deleted: 'Image deleted.',
    undo: 'Undo',
    open: 'Open: show it and put its settings back in the form',
  },
};

export type Messages = typeof en;
