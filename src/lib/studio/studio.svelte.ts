import { getContext, setContext } from 'svelte';
import { decideRoute, type AdapterReport, type DeviceState, type RouteDecision } from '../../core/capabilities.ts';
import { describeError } from '../../core/errors.ts';
import type { ModelManifest } from '../../core/loading/manifest.ts';
import { ASPECT_RATIOS, DEFAULT_STYLE_MODELS, sizeForAspectRatio, type AdCase, type Style } from '../../core/product/index.ts';
import { buildPrompt, type BuiltPrompt, type IndustryId } from '../../core/prompt/index.ts';
import { checkReferenceImage } from '../../core/image/decode.ts';
import { parseGenerateRequest, RequestValidationError, type GenerateRequest, type RequestIssue } from '../../core/request.ts';
import type { EngineEvent, EngineResult } from '../../engine/engine.ts';
import { LocalEngine } from '../../engine/localEngine.ts';
import { RemoteEngine } from '../../engine/remoteEngine.ts';
import { generateRouted, plainReason, type RouteNotice } from '../../engine/router.ts';
import type { Messages } from '../i18n/en.ts';
import { locale } from '../i18n/locale.svelte.ts';
import type { ModelState } from '../../worker/engine.worker.ts';
import { deleteHistory, historyEntry, listHistory, saveHistory, type HistoryEntry } from '../history/historyStore.ts';
import { adCopy } from './adImage.svelte.ts';
import { loadDraft, saveDraft, styleSettings, type Draft } from './draft.ts';
import { loadPhoto, photoDataUrl, preparePhoto, savePhoto, type ReferencePhoto } from './referencePhoto.ts';
import { progressFor, StepClock, type Progress } from './progress.ts';
import { SAMPLERS } from '../../core/schedulers/index.ts';

/** A message to the user, worded when shown (so it follows a language switch). */
export interface Notice {
  kind: 'info' | 'warn' | 'error';
  text: (t: Messages) => string;
}

/** A reason in the page's language: plain words, then the code and detail for a support request. */
const plain = (error: unknown) => plainReason(describeError(error), locale.t.plain);

const GiB = 1024 ** 3;
/** The route while the device check has not finished. */
const PENDING: RouteDecision = { target: 'server', why: 'details_pending', reason: 'Device check not finished' };

/** A download running while the page is used (the server makes images meanwhile). */
export interface BackgroundDownload {
  variant: string;
  loaded: number;
  total: number;
}

/**
 * Memory one generation may use on this device, bytes: half the device's memory where the browser says
 * (`navigator.deviceMemory`, in GiB, capped at 8 by browsers), 4 GiB otherwise.
 */
function memoryBudget(): number {
  const gib = (navigator as Navigator & { deviceMemory?: number }).deviceMemory;
  return gib ? (gib * GiB) / 2 : 4 * GiB;
}

/**
 * The app's state and actions: the form (saved as a draft on every change), the device report and
 * routing decision, the selected model and what this device has of it, background downloads, progress (with
 * the server's previews and time left), cancelling, the current image and the history.
 */
export class Studio {
  draft = $state<Draft>(loadDraft());
  adapter = $state<AdapterReport | undefined>();
  /** The selected model's manifest and what this device holds of it. */
  modelState = $state<ModelState | undefined>();
  modelIds = $state<string[]>([]);
  background = $state<BackgroundDownload | undefined>();
  progress = $state<Progress | undefined>();
  /** The latest latent preview of the running generation (a PNG data: URL) and the step it shows. */
  preview = $state<{ url: string; step: number } | undefined>();
  /** Milliseconds until the running generation's image is ready, when the server has said. */
  etaMs = $state<number | undefined>();
  busy = $state(false);
  /** A generation is running and can be cancelled (on either route). */
  cancellable = $state(false);
  /** Cancel was asked for; the run ends at its next step. */
  cancelling = $state(false);
  /** The last generation was cancelled (shown where its image would be). */
  cancelled = $state(false);
  issues = $state<RequestIssue[]>([]);
  notices = $state<Notice[]>([]);
  current = $state<HistoryEntry | undefined>();
  history = $state<HistoryEntry[]>([]);
  /** The package of each style, from the server (`GET /api/models`), or the default install's offline. */
  styleModels = $state<Record<Style, string>>({ ...DEFAULT_STYLE_MODELS });
  /** The server's registered translation model (the worker translates Korean with it), or undefined: the glossary. */
  translationModel = $state<string | undefined>(undefined);
  /** The server's default package, for a style whose package the server does not have. */
  defaultModel = $state<string | undefined>();
  /** Reference photo for image-to-image (kept in IndexedDB). */
  photo = $state<ReferencePhoto | undefined>();

  manifest = $derived<ModelManifest | undefined>(this.modelState?.manifest);
  /** The package that renders: the one chosen in Advanced, else the style's. */
  modelId = $derived.by(() => {
    if (this.draft.modelId) return this.draft.modelId;
    const forStyle = this.styleModels[this.draft.style];
    return this.defaultModel && this.modelIds.length && !this.modelIds.includes(forStyle) ? this.defaultModel : forStyle;
  });
  /** The English prompt the prompt builder makes of the description (undefined while it is empty). */
  built = $derived.by<BuiltPrompt | undefined>(() => {
    if (!this.draft.prompt.trim()) return undefined;
    try {
      return buildPrompt({ text: this.draft.prompt, style: this.draft.style, industry: this.draft.industry });
    } catch {
      return undefined;
    }
  });
  /** The prompt the model gets: the user's edit, else the builder's. */
  prompt = $derived(this.draft.promptOverride ?? this.built?.prompt ?? this.draft.prompt);
  /** The image size for the chosen aspect ratio on the selected model. */
  size = $derived(sizeForAspectRatio(this.draft.aspect_ratio, this.manifest?.nativeSide ?? 1024, this.manifest?.vaeScaleFactor ?? 8));
  device = $derived<DeviceState | undefined>(
    this.adapter
      ? {
          adapter: this.adapter,
          canCache: this.modelState?.canCache ?? true,
          storageAvailableBytes: this.modelState?.storageAvailableBytes,
          storedBytes: this.modelState?.storedBytes ?? {},
          failed: this.modelState?.failed ?? {},
          memoryBudgetBytes: memoryBudget(),
        }
      : undefined,
  );
  decision = $derived<RouteDecision | undefined>(this.device ? decideRoute(this.draft.preference, this.device, this.manifest, this.size.width, this.size.height) : undefined);
  /** Bytes of the chosen variant already stored, and its total. */
  stored = $derived.by(() => {
    const manifest = this.manifest;
    const variant = manifest?.variants.find((v) => v.name === this.decision?.variant) ?? manifest?.variants[0];
    if (!manifest || !variant) return undefined;
    const total = variant.needs.downloadBytes;
    const storedBytes = Math.min(total, this.modelState?.storedBytes[variant.name] ?? 0);
    return { variant: variant.name, storedBytes, totalBytes: total, complete: storedBytes >= total };
  });

  readonly local = new LocalEngine();
  readonly remote = new RemoteEngine();
  private backgroundFailed = new Set<string>();
  private controller: AbortController | undefined;
  private readonly clock = new StepClock();

  constructor() {
    $effect.root(() => {
      $effect(() => saveDraft($state.snapshot(this.draft)));
      // a style (or model) change reads that package's state; the first read is init's
      let first = true;
      $effect(() => {
        void this.modelId;
        if (first) first = false;
        else void this.refreshModel();
      });
      // a full-size model downloads in the background while the server makes the images
      $effect(() => {
        const d = this.decision;
        if (d?.download === 'background' && d.variant && !this.background) void this.downloadInBackground(d.variant);
      });
    });
  }

  /** Loads history, probes the GPU, finds the model list and the selected model's state. */
  async init(): Promise<void> {
    void this.resume();
    void loadPhoto().then((p) => (this.photo = p));
    void listHistory().then((h) => (this.history = h)).catch((e) => this.notify('warn', (t) => t.notices.historyUnreadable(describeError(e).message)));
    void this.local.probe().then((a) => (this.adapter = a));
    try {
      const response = await fetch('/api/models');
      const body = (await response.json()) as { default_model: string; models: { id: string }[]; style_models?: Record<Style, string>; translation_model?: string | null };
      this.modelIds = body.models.map((m) => m.id);
      this.local.translationModel = this.translationModel = keepTranslationModel(body.translation_model ?? undefined);
      this.defaultModel = body.default_model;
      if (body.style_models) this.styleModels = { ...DEFAULT_STYLE_MODELS, ...body.style_models };
      if (this.draft.modelId && !this.modelIds.includes(this.draft.modelId)) this.draft.modelId = '';
    } catch {
      this.modelIds = [...new Set([...Object.values(this.styleModels), ...(this.draft.modelId ? [this.draft.modelId] : [])])];
      this.local.translationModel = this.translationModel = keptTranslationModel();
      this.notify('info', (t) => t.notices.offline);
    }
    await this.refreshModel();
  }

  /** Reads the selected model's manifest (the server's when online) and what this device has of it. */
  async refreshModel(): Promise<void> {
    const id = this.modelId;
    try {
      const state = await this.local.modelState(id);
      if (id === this.modelId) this.modelState = state;
    } catch (error) {
      if (id !== this.modelId) return;
      this.modelState = undefined;
      this.notify('warn', (t) => t.notices.modelDetails(id, describeError(error).message));
    }
  }

  notify(kind: Notice['kind'], text: Notice['text']): void {
    this.notices = [...this.notices, { kind, text }];
  }

  /** Asks the browser to keep this site's storage (a multi-gigabyte model should not be evicted). */
  private async persistStorage(): Promise<void> {
    await navigator.storage?.persist?.().catch(() => false);
  }

  /**
   * Downloads `variant` of the selected model while the page is used; the route switches to this device by
   * itself once the download is verified. An interrupted download resumes on the next visit.
   */
  async downloadInBackground(variant: string): Promise<void> {
    const modelId = this.modelId;
    const key = `${modelId}|${variant}`;
    if (this.backgroundFailed.has(key)) return;
    this.background = { variant, loaded: this.stored?.storedBytes ?? 0, total: this.stored?.totalBytes ?? 0 };
    try {
      await this.persistStorage();
      await this.local.download(modelId, variant, (e) => {
        if (e.stage === 'download') this.background = { variant, loaded: e.loaded, total: e.total };
      });
      await this.refreshModel();
      this.notify('info', (t) => t.notices.backgroundDone(variant));
    } catch (error) {
      this.backgroundFailed.add(key);
      const reason = plain(error);
      this.notify('warn', (t) => t.notices.backgroundFailed(variant, reason));
      await this.refreshModel();
    } finally {
      this.background = undefined;
    }
  }

  /** Chooses a style, with the steps, guidance, sampler and negative prompt it brings (changeable in Advanced). */
  chooseStyle(style: Style): void {
    this.draft.style = style;
    Object.assign(this.draft, styleSettings(style));
  }

  /** Fills the form from one of the product's real cases (its description in the interface's language). */
  useCase(adCase: AdCase): void {
    this.chooseStyle(adCase.style as Style);
    Object.assign(this.draft, {
      industry: adCase.industry as IndustryId,
      prompt: locale.current === 'ko' ? adCase.prompt_ko : adCase.prompt,
      promptOverride: null,
      aspect_ratio: adCase.aspect_ratio,
      seed: adCase.seed,
      // the case's own steps and guidance where it has them, else the style's (set by chooseStyle)
      ...(adCase.num_inference_steps !== undefined ? { num_inference_steps: adCase.num_inference_steps } : {}),
      ...(adCase.guidance_scale !== undefined ? { guidance_scale: adCase.guidance_scale } : {}),
    });
  }

  /** Picks a sampler; presets such as SDXL-Turbo and LCM also set the steps and guidance they need. */
  chooseSampler(name: Draft['scheduler']): void {
    this.draft.scheduler = name;
    const preset = name ? SAMPLERS[name] : undefined;
    if (preset && 'recommended' in preset) Object.assign(this.draft, preset.recommended);
  }

  /** Sets (or clears) the reference photo from a file the user picked. */
  async setPhoto(file: File | undefined): Promise<void> {
    this.issues = this.issues.filter((i) => i.field !== 'image');
    if (!file) {
      this.photo = undefined;
      await savePhoto(undefined);
      return;
    }
    try {
      this.photo = await preparePhoto(file);
      await savePhoto($state.snapshot(this.photo) as ReferencePhoto);
    } catch (error) {
      this.issues = [...this.issues, { field: 'image', message: (error as Error).message, limit: file.name }];
    }
  }

  randomizeSeed(): void {
    this.draft.seed = Math.floor(Math.random() * 2 ** 32);
  }

  /** The request the form describes (not yet validated). */
  request(): Record<string, unknown> {
    const d = this.draft;
    return {
      ...(d.scheduler ? { scheduler: d.scheduler } : {}),
      ...(this.photo ? { image: photoDataUrl(this.photo), strength: d.strength } : {}),
      model: this.modelId,
      style: d.style,
      // the description goes as typed and the workflow's prompt node builds the English prompt (the one shown),
      // unless the English prompt was edited here
      ...(d.promptOverride !== null ? { prompt: d.promptOverride } : {}),
      ad: { ...(d.prompt.trim() ? { text: d.prompt } : {}), industry: d.industry, ...(Object.keys(adCopy(d.copy)).length ? { copy: adCopy(d.copy) } : {}) },
      negative_prompt: d.negative_prompt,
      width: this.size.width,
      height: this.size.height,
      num_inference_steps: d.num_inference_steps,
      guidance_scale: d.guidance_scale,
      seed: d.seed,
    };
  }

  private onEvent(event: EngineEvent): void {
    if (event.stage === 'preview') this.preview = { url: event.url, step: event.step };
    else if (event.stage === 'eta') this.etaMs = event.ms;
    else {
      this.progress = progressFor(event);
      // on this device the time left comes from the steps so far (the server sends its own)
      const eta = this.clock.observe(event, performance.now());
      if (eta !== undefined) this.etaMs = eta;
    }
  }

  /** Validates the form, runs it where the routing decision says (falling back as it goes), saves the image. */
  async generate(): Promise<void> {
    if (this.busy) return;
    this.issues = [];
    this.notices = [];
    // tapped before the model's details came: its native size and the route depend on them
    if (!this.manifest) await this.refreshModel();
    let request: GenerateRequest;
    try {
      request = parseGenerateRequest(this.request());
      if (request.image) checkReferenceImage(request.image);
    } catch (error) {
      if (error instanceof RequestValidationError) this.issues = error.issues;
      else throw error;
      return;
    }
    const decision = this.decision ?? PENDING;
    if (decision.target === 'server' && decision.variant) this.notify('info', (t) => t.route?.(decision.why, decision.variant) ?? decision.reason);
    await this.run(request, async (signal) => {
      if (decision.download === 'now') await this.persistStorage();
      return generateRouted({
        request,
        decision,
        local: this.local,
        remote: this.remote,
        onEvent: (e) => this.onEvent(e),
        onNotice: (notice) => this.notify('warn', routeNotice(notice)),
        redecide: async () => {
          await this.refreshModel();
          return this.decision ?? PENDING;
        },
        signal,
      });
    });
  }

  /**
   * Re-attaches to the server job an earlier visit of this page was waiting on (a reload while it ran): its
   * progress shows, then its image, saved to history like any other; Cancel works for it.
   */
  private async resume(): Promise<void> {
    const job = await this.remote.pendingJob();
    if (!job || this.busy) return;
    this.notify('info', (t) => t.notices.resumed);
    await this.run(job.request, (signal) => this.remote.attach(job, (e) => this.onEvent(e), signal));
  }

  /** Stops the running generation (this device: before its next step; the server: the job is cancelled there). */
  cancel(): void {
    if (!this.controller || this.cancelling) return;
    this.cancelling = true;
    this.controller.abort();
  }

  /** Runs one generation (cancellable), then tells what it produced and saves the image to history. */
  private async run(request: GenerateRequest, work: (signal: AbortSignal) => Promise<EngineResult>): Promise<void> {
    const controller = (this.controller = new AbortController());
    this.busy = this.cancellable = true;
    this.cancelled = this.cancelling = false;
    this.clock.reset();
    try {
      const result = await work(controller.signal);
      const { prompt: cut, negative_prompt: cutNegative } = result.truncated;
      if (cut) this.notify('info', (t) => t.notices.truncatedPrompt(cut));
      if (cutNegative) this.notify('info', (t) => t.notices.truncatedNegative(cutNegative));
      if (result.fp32VaeRetry) this.notify('info', (t) => t.notices.fp32Retry);
      if (result.storage === 'memory') this.notify('info', (t) => t.notices.memoryOnly);
      const entry = historyEntry(request, result, $state.snapshot(this.draft.copy));
      this.current = entry;
      try {
        await saveHistory(entry);
        this.history = [entry, ...this.history];
      } catch (error) {
        const detail = describeError(error).message;
        this.notify('warn', (t) => t.notices.historyNotSaved(detail));
      }
    } catch (error) {
      const info = describeError(error);
      if (info.code === 'cancelled') this.cancelled = true;
      else {
        if (info.issues) this.issues = info.issues as RequestIssue[];
        this.notify('error', (t) => t.noImage(t.errors[info.code], `${info.code}: ${info.message}`));
      }
    } finally {
      this.controller = undefined;
      this.busy = this.cancellable = this.cancelling = false;
      this.progress = this.preview = this.etaMs = undefined;
      this.clock.reset();
      await this.refreshModel();
    }
  }

  /** Downloads the selected model's chosen variant for offline use without generating. */
  async downloadModel(): Promise<void> {
    const variant = this.stored?.variant;
    if (this.busy || !variant) return;
    this.busy = true;
    try {
      await this.persistStorage();
      await this.local.download(this.modelId, variant, (e) => this.onEvent(e));
      await this.refreshModel();
    } catch (error) {
      const reason = plain(error);
      this.notify('error', (t) => t.notices.downloadFailed(reason));
    } finally {
      this.busy = false;
      this.progress = undefined;
    }
  }

  /** Re-checks the stored model chunk by chunk; damaged chunks are downloaded again, alone. */
  async checkModel(): Promise<void> {
    const variant = this.stored?.variant;
    if (this.busy || !variant) return;
    this.busy = true;
    try {
      const { repaired } = await this.local.verify(this.modelId, variant);
      this.notify('info', (t) => (repaired ? t.notices.repaired(repaired, variant) : t.notices.intact(variant)));
    } catch (error) {
      const reason = plain(error);
      this.notify('error', (t) => t.notices.checkFailed(reason));
    } finally {
      this.busy = false;
      await this.refreshModel();
    }
  }

  /** Frees the storage the selected model takes on this device (it downloads again when needed). */
  async removeModel(): Promise<void> {
    if (this.busy) return;
    await this.local.remove(this.modelId).catch((e: unknown) => this.notify('error', (t) => t.notices.removeFailed(describeError(e).message)));
    await this.refreshModel();
  }

  /** The entry deleted last, which Undo puts back (until another is deleted or Undo is used). */
  deleted = $state<HistoryEntry | undefined>();

  async remove(entry: HistoryEntry): Promise<void> {
    await deleteHistory(entry.id).catch(() => undefined);
    this.history = this.history.filter((e) => e.id !== entry.id);
    if (this.current?.id === entry.id) this.current = undefined;
    this.deleted = entry;
  }

  /** Puts the entry deleted last back into history (and IndexedDB). */
  async undoRemove(): Promise<void> {
    const entry = this.deleted;
    if (!entry) return;
    this.deleted = undefined;
    try {
      await saveHistory($state.snapshot(entry) as HistoryEntry);
    } catch (error) {
      const detail = describeError(error).message;
      this.notify('warn', (t) => t.notices.historyNotSaved(detail));
    }
    this.history = [entry, ...this.history].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Opens a history entry: shows its image and puts its settings back in the form (style, business, shape,
   * description or edited prompt, the copy, steps, guidance, seed, sampler, negative prompt).
   */
  open(entry: HistoryEntry): void {
    this.current = entry;
    const r = entry.request;
    const ratio = nearestAspectRatio(r.width, r.height);
    const ad = (r as { ad?: { text?: string; industry?: IndustryId } }).ad;
    Object.assign(this.draft, {
      ...(r.style ? { style: r.style } : {}),
      ...(ad?.industry ? { industry: ad.industry } : {}),
      ...(ad?.text ? { prompt: ad.text, promptOverride: r.prompt ?? null } : { prompt: r.prompt ?? '', promptOverride: r.prompt ?? null }),
      ...(ratio ? { aspect_ratio: ratio } : {}),
      negative_prompt: r.negative_prompt,
      num_inference_steps: r.num_inference_steps,
      guidance_scale: r.guidance_scale,
      seed: r.seed,
      scheduler: r.scheduler ?? '',
    });
    // the copy fields are bound to this object: fill it, do not replace it
    if (entry.copy) Object.assign(this.draft.copy, entry.copy);
  }
}

const TRANSLATION_MODEL_KEY = 'ad-studio:translation-model';

/** Remembers the server's translation model for offline visits (the worker keeps its files); returns it. */
function keepTranslationModel(id: string | undefined): string | undefined {
  try {
    if (id) localStorage.setItem(TRANSLATION_MODEL_KEY, id);
    else localStorage.removeItem(TRANSLATION_MODEL_KEY);
  } catch {
    // storage refused (a private window): online visits still get it from the server
  }
  return id;
}

/** The translation model the server named on the last online visit, if any. */
function keptTranslationModel(): string | undefined {
  try {
    return localStorage.getItem(TRANSLATION_MODEL_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** A router notice worded in the page's language. */
function routeNotice(notice: RouteNotice): Notice['text'] {
  return (t) => {
    const reason = plainReason(notice.info, t.plain);
    return notice.kind === 'variant_failed' ? t.notices.variantFailed(notice.variant, reason, notice.next) : t.notices.deviceFailed(reason);
  };
}

/** The product aspect ratio whose shape is nearest `width` x `height` (pixels). */
function nearestAspectRatio(width: number, height: number): string | undefined {
  let best: string | undefined;
  let distance = Infinity;
  for (const [ratio, [w, h]] of Object.entries(ASPECT_RATIOS)) {
    const d = Math.abs(Math.log(width / height) - Math.log(w / h));
    if (d < distance) [best, distance] = [ratio, d];
  }
  return best;
}

const KEY = Symbol('studio');
export const setStudio = (studio: Studio) => setContext(KEY, studio);
export const getStudio = () => getContext<Studio>(KEY);
