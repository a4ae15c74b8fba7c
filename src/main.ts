import { mount } from 'svelte';
import { registerSW } from 'virtual:pwa-register';
import App from './lib/App.svelte';
import './app.css';

registerSW({ immediate: true });
mount(App, { target: document.body });
